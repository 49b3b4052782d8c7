//! The server answers every malformed or unauthorized request with the spec's Error JSON and
//! status (400/401/503), never a panic, a framework default, or a key.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use qkd_etsi014::MemoryStore;
use qkd_etsi014::types::ErrorBody;

struct Bed {
    rt: tokio::runtime::Runtime,
    port: u16,
    sae_a: reqwest::Client,
    sae_c: reqwest::Client,
    anon: reqwest::Client,
    dir: std::path::PathBuf,
    _h: qkd_etsi014::ServerHandle,
}

fn raw(dir: &std::path::Path, who: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&read(dir, "ca.pem")).unwrap();
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca);
    if let Some(w) = who {
        let mut pem = read(dir, &format!("{w}.pem"));
        pem.extend(read(dir, &format!("{w}.key")));
        b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

fn bed() -> Bed {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tmp();
    let (h, port) = rt.block_on(async {
        let (l, p) = bind().await;
        let (lp, pp) = bind().await;
        drop(lp);
        let mut cfg = config(&dir, 0, pp, 200);
        cfg.max_body_bytes = 4096;
        cfg.max_sae_id_count = 2;
        let (_k, h) = start(cfg, &dir, Box::new(MemoryStore::new()), l).await;
        (h, p)
    });
    Bed {
        port,
        sae_a: raw(&dir, Some("sae-a")),
        sae_c: raw(&dir, Some("sae-c")),
        anon: raw(&dir, None),
        rt,
        dir,
        _h: h,
    }
}

impl Bed {
    fn call(
        &self,
        c: &reqwest::Client,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, Vec<u8>) {
        self.rt.block_on(async {
            let url = format!("https://127.0.0.1:{}{path}", self.port);
            let mut r = c.request(method.parse().unwrap(), url);
            if let Some(b) = body {
                r = r.header("content-type", "application/json").body(b);
            }
            let resp = r.send().await.unwrap();
            let s = resp.status().as_u16();
            (s, resp.bytes().await.unwrap().to_vec())
        })
    }
}

/// Asserts a spec error: the status, and an Error JSON body with a message and no key.
fn spec_error(status: u16, body: &[u8], want: u16) -> ErrorBody {
    assert_eq!(status, want, "{}", String::from_utf8_lossy(body));
    let e: ErrorBody = serde_json::from_slice(body).expect("Error JSON");
    assert!(!e.message.is_empty());
    assert!(!String::from_utf8_lossy(body).contains("\"key\""));
    e
}

#[test]
fn spec_errors_for_each_bad_request() {
    let b = bed();
    let a = &b.sae_a;
    let enc = "/api/v1/keys/sae-a2/enc_keys";
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        (
            "GET",
            format!("{enc}?size=100"),
            None,
            400,
            "size shall be a multiple of 8",
        ),
        ("GET", format!("{enc}?size=0"), None, 400, "size"),
        ("GET", format!("{enc}?number=0"), None, 400, "number"),
        ("GET", format!("{enc}?number=-1"), None, 400, "number"),
        ("GET", format!("{enc}?number=abc"), None, 400, "number"),
        (
            "GET",
            format!("{enc}?number=99999999999999999999999"),
            None,
            400,
            "number",
        ),
        ("GET", format!("{enc}?number=129"), None, 400, "number"),
        ("GET", format!("{enc}?size=16384"), None, 400, "size"),
        ("GET", format!("{enc}?foo=1"), None, 400, "parameter"),
        ("POST", enc.into(), Some("{\"number\":"), 400, "malformed"),
        (
            "POST",
            enc.into(),
            Some("{\"number\":\"2\"}"),
            400,
            "malformed",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"size\":1e400}"),
            400,
            "malformed",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[]}"),
            400,
            "empty",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[\" \"]}"),
            400,
            "blank",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[\"sae-a2\"]}"),
            400,
            "repeat",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[\"sae-a\"]}"),
            400,
            "repeat",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[\"x1\"]}"),
            400,
            "not known",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"additional_slave_SAE_IDs\":[\"a\",\"b\",\"c\"]}"),
            400,
            "max_SAE_ID_count",
        ),
        (
            "POST",
            enc.into(),
            Some("{\"extension_mandatory\":[{\"abc\":1}]}"),
            400,
            "not all extension_mandatory parameters are supported",
        ),
        (
            "GET",
            "/api/v1/keys/sae-a/enc_keys".into(),
            None,
            400,
            "differ",
        ),
        (
            "GET",
            "/api/v1/keys/%20/enc_keys".into(),
            None,
            400,
            "blank",
        ),
        (
            "GET",
            "/api/v1/keys/nobody/enc_keys".into(),
            None,
            400,
            "not known",
        ),
        (
            "GET",
            "/api/v1/keys/nobody/status".into(),
            None,
            400,
            "not known",
        ),
        ("DELETE", enc.into(), None, 400, "not supported"),
        (
            "PUT",
            "/api/v1/keys/sae-a2/status".into(),
            None,
            400,
            "not supported",
        ),
        (
            "GET",
            "/api/v1/keys/sae-a2/whatever".into(),
            None,
            400,
            "unknown",
        ),
        ("GET", "/nothing/here".into(), None, 400, "unknown"),
        (
            "GET",
            "/api/v1/keys/sae-a2/dec_keys?key_ID=not-a-uuid".into(),
            None,
            400,
            "UUID",
        ),
        (
            "GET",
            "/api/v1/keys/sae-a2/dec_keys".into(),
            None,
            400,
            "key_ID",
        ),
        (
            "GET",
            "/api/v1/keys/sae-a2/dec_keys?key_ID=00000000-0000-0000-0000-000000000001".into(),
            None,
            400,
            "not found on KME",
        ),
        (
            "POST",
            "/api/v1/keys/sae-a2/dec_keys".into(),
            Some("{\"key_IDs\":[{\"key_ID\":\"zz\"}]}"),
            400,
            "malformed",
        ),
        (
            "POST",
            "/api/v1/keys/sae-a2/dec_keys".into(),
            Some("{\"key_IDs\":[]}"),
            400,
            "empty",
        ),
        ("POST", "/kme/v1/announce".into(), Some("{}"), 401, "peer"),
    ];
    for (m, path, body, want, msg) in cases {
        let (s, bytes) = b.call(a, m, &path, body.map(|x| x.as_bytes().to_vec()));
        let e = spec_error(s, &bytes, want);
        assert!(e.message.contains(msg), "{m} {path}: {}", e.message);
    }
    let big = vec![b' '; 10_000];
    let (s, bytes) = b.call(a, "POST", enc, Some(big));
    assert!(spec_error(s, &bytes, 400).message.contains("larger"));
    let (s, bytes) = b.call(
        a,
        "POST",
        enc,
        Some(b"{\"extension_mandatory\":[{\"x\":1}]}".to_vec()),
    );
    let e = spec_error(s, &bytes, 400);
    assert!(e.details.unwrap()[0]["extension_mandatory_unsupported"].is_array());
    // Unauthenticated caller: 401 with Error JSON.
    let (s, bytes) = b.call(&b.anon, "GET", "/api/v1/keys/sae-a2/status", None);
    spec_error(s, &bytes, 401);
    // A valid empty POST is one key of the default size; a third SAE asking for it gets 401.
    let (s, bytes) = b.call(a, "POST", enc, None);
    assert_eq!(s, 200);
    let c: qkd_etsi014::types::KeyContainer = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(c.keys.len(), 1);
    let id = c.keys[0].key_id;
    let dec = format!("/api/v1/keys/sae-a/dec_keys?key_ID={id}");
    let sae_a2 = raw(&b.dir, Some("sae-a2"));
    // sae-c is attached to the peer site: it may not call this KME at all.
    let (s, bytes) = b.call(&b.sae_c, "GET", &dec, None);
    spec_error(s, &bytes, 401);
    // A local SAE that is not a slave of the key gets 401, distinct from "not found".
    let (s, bytes) = b.call(
        a,
        "GET",
        &format!("/api/v1/keys/sae-a2/dec_keys?key_ID={id}"),
        None,
    );
    spec_error(s, &bytes, 401);
    let (s, _) = b.call(&sae_a2, "GET", &dec, None);
    assert_eq!(s, 200);
    // Percent-encoded SAE IDs are decoded.
    let (s, _) = b.call(a, "GET", "/api/v1/keys/sae%2Da2/status", None);
    assert_eq!(s, 200);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn arbitrary_requests_get_spec_answers(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        json_ish in "\\{(\"(number|size|key_IDs|additional_slave_SAE_IDs|extension_mandatory)\":(-?[0-9]{1,25}|\"[a-z0-9-]{0,40}\"|\\[\\]|null|true|\\{\\}),?){0,4}\\}",
        seg in "[a-zA-Z0-9%._-]{0,20}",
        op in prop::sample::select(vec!["status", "enc_keys", "dec_keys", "x"]),
        method in prop::sample::select(vec!["GET", "POST", "PUT", "PATCH"]),
        q in "[a-zA-Z_=&0-9%-]{0,30}",
    ) {
        thread_local!(static BED: Bed = bed());
        BED.with(|b| {
            for payload in [Some(body.clone()), Some(json_ish.as_bytes().to_vec()), None] {
                let path = format!("/api/v1/keys/{seg}/{op}?{q}");
                let (s, bytes) = b.call(&b.sae_a, method, &path, payload);
                prop_assert!(matches!(s, 200 | 400 | 401 | 503), "status {s}");
                if s != 200 {
                    let e: ErrorBody = serde_json::from_slice(&bytes).expect("Error JSON");
                    prop_assert!(!e.message.is_empty());
                }
            }
            Ok(())
        })?;
    }
}
