//! The HTTPS front end: hyper over tokio-rustls, the three ETSI 014 methods, the KME-to-KME
//! announce call, and the spec's Error JSON for every refusal (400, 401, 503; never 404/405/422/500
//! or plain text).

// Refusals are returned as ready responses; they are the rare path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::config::SaeSite;
use crate::kme::{AnnounceBody, AnnounceResult, Kme, Op};
use crate::pool::{KeyBytes, Refusal};
use crate::types::{KeyIds, KeyRequest, Status};

type Resp = Response<Full<Bytes>>;

/// A running server; dropping it does not stop it, [`ServerHandle::shutdown`] does.
pub struct ServerHandle {
    /// The bound address.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting and closes connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Serves `kme` over HTTPS on `listener` with `tls` (see [`crate::tls::server_config`]).
#[must_use]
pub fn serve(kme: Kme, listener: TcpListener, tls: Arc<rustls::ServerConfig>) -> ServerHandle {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let (stop, mut stopped) = watch::channel(false);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stopped.changed() => break,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let kme = kme.clone();
            conns.spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let identity: Option<Arc<str>> = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| crate::tls::cert_identity(c, kme.inner.config.identity))
                    .map(Arc::from);
                let svc = hyper::service::service_fn(move |req| {
                    let kme = kme.clone();
                    let identity = identity.clone();
                    async move { Ok::<_, Infallible>(handle(&kme, identity.as_deref(), req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
            while conns.try_join_next().is_some() {}
        }
        conns.abort_all();
    });
    ServerHandle { addr, stop, task }
}

fn json_resp(status: StatusCode, body: Bytes) -> Resp {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// The spec's Error JSON.
fn error(status: StatusCode, message: &str, details: Option<Value>) -> Resp {
    let mut v = json!({ "message": message });
    if let Some(d) = details {
        v["details"] = d;
    }
    json_resp(status, Bytes::from(v.to_string()))
}

fn bad(message: &str) -> Resp {
    error(StatusCode::BAD_REQUEST, message, None)
}

fn unauthorized(message: &str) -> Resp {
    error(StatusCode::UNAUTHORIZED, message, None)
}

fn unavailable(message: &str) -> Resp {
    error(StatusCode::SERVICE_UNAVAILABLE, message, None)
}

/// Owner of a serialized key container: zeroized when hyper drops the body.
struct SecretBody(Zeroizing<Vec<u8>>);
impl AsRef<[u8]> for SecretBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn key_container(keys: &[(Uuid, KeyBytes)]) -> Resp {
    let mut out = Zeroizing::new(Vec::with_capacity(16 + keys.len() * 100));
    out.extend_from_slice(b"{\"keys\":[");
    let mut b64 = Zeroizing::new(String::new());
    for (i, (id, k)) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"key_ID\":\"");
        out.extend_from_slice(id.hyphenated().to_string().as_bytes());
        out.extend_from_slice(b"\",\"key\":\"");
        b64.clear();
        base64::engine::general_purpose::STANDARD.encode_string(k.as_slice(), &mut b64);
        out.extend_from_slice(b64.as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}");
    json_resp(StatusCode::OK, Bytes::from_owner(SecretBody(out)))
}

fn refusal(r: &Refusal) -> Resp {
    match r {
        Refusal::NotEnoughKey => unavailable("not enough key material available"),
        Refusal::NotFound => bad("one or more keys specified are not found on KME"),
        Refusal::Unauthorized => {
            unauthorized("the caller is not authorized to retrieve one or more of these keys")
        }
        Refusal::Unavailable(m) => unavailable(m),
        Refusal::BlockConflict(_) | Refusal::BadAnnouncement(_) => bad("refused"),
    }
}

/// Parses a query string into (name, value) pairs, percent-decoded.
fn query_pairs(q: &str) -> Result<Vec<(String, String)>, Resp> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| bad("query is not valid UTF-8"))
            };
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}

fn parse_u64(name: &str, v: &str) -> Result<u64, Resp> {
    v.trim()
        .parse::<u64>()
        .map_err(|_| bad(&format!("{name} shall be a positive integer")))
}

async fn read_body(req: Request<Incoming>, limit: usize) -> Result<Bytes, Resp> {
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(bad(&format!("request body larger than {limit} bytes")))
        }
        Err(_) => Err(bad("could not read the request body")),
    }
}

async fn handle(kme: &Kme, identity: Option<&str>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    if path == "/kme/v1/announce" {
        return announce(kme, identity, req).await;
    }
    let Some(rest) = path.strip_prefix("/api/v1/keys/") else {
        return bad("unknown resource");
    };
    let Some((sae_enc, op)) = rest.rsplit_once('/') else {
        return bad("unknown resource");
    };
    // Authentication comes before anything else: nothing is revealed to an unknown caller.
    let caller = match identity.and_then(|i| kme.inner.by_identity.get(i)) {
        Some(c) => c.clone(),
        None => return unauthorized("client certificate missing or not registered with this KME"),
    };
    if kme.inner.sites.get(&caller) != Some(&SaeSite::Local) {
        return unauthorized("this SAE is not attached to this KME");
    }
    let Ok(sae) = percent_decode_str(sae_enc).decode_utf8() else {
        return bad("SAE ID is not valid UTF-8");
    };
    let sae = sae.into_owned();
    if sae.trim().is_empty() {
        return bad("SAE ID shall not be blank");
    }
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_owned();
    match (op, &method) {
        ("status", &Method::GET) => status(kme, &caller, &sae),
        ("enc_keys", &Method::GET) => match enc_query(&query) {
            Ok(r) => enc_keys(kme, &caller, &sae, r).await,
            Err(e) => e,
        },
        ("enc_keys", &Method::POST) => {
            let body = match read_body(req, kme.inner.config.max_body_bytes).await {
                Ok(b) => b,
                Err(e) => return e,
            };
            let r = if body.iter().all(u8::is_ascii_whitespace) {
                KeyRequest::default()
            } else {
                match serde_json::from_slice::<KeyRequest>(&body) {
                    Ok(r) => r,
                    Err(e) => return bad(&format!("malformed key request: {e}")),
                }
            };
            enc_keys(kme, &caller, &sae, r).await
        }
        ("dec_keys", &Method::GET) => {
            let pairs = match query_pairs(&query) {
                Ok(p) => p,
                Err(e) => return e,
            };
            match pairs.as_slice() {
                [(k, v)] if k == "key_ID" => match Uuid::try_parse(v) {
                    Ok(id) => dec_keys(kme, &caller, &sae, vec![id]).await,
                    Err(_) => bad("key_ID shall be a UUID"),
                },
                _ => bad("GET dec_keys takes exactly one key_ID parameter"),
            }
        }
        ("dec_keys", &Method::POST) => {
            let body = match read_body(req, kme.inner.config.max_body_bytes).await {
                Ok(b) => b,
                Err(e) => return e,
            };
            match serde_json::from_slice::<KeyIds>(&body) {
                Ok(r) => {
                    dec_keys(
                        kme,
                        &caller,
                        &sae,
                        r.key_ids.iter().map(|k| k.key_id).collect(),
                    )
                    .await
                }
                Err(e) => bad(&format!("malformed key IDs: {e}")),
            }
        }
        ("status" | "enc_keys" | "dec_keys", _) => {
            bad(&format!("method {method} is not supported on {op}"))
        }
        _ => bad("unknown resource"),
    }
}

fn enc_query(query: &str) -> Result<KeyRequest, Resp> {
    let mut r = KeyRequest::default();
    for (k, v) in query_pairs(query)? {
        match k.as_str() {
            "number" if r.number.is_none() => r.number = Some(parse_u64("number", &v)?),
            "size" if r.size.is_none() => r.size = Some(parse_u64("size", &v)?),
            _ => {
                return Err(bad(&format!(
                    "unsupported or repeated query parameter {k:?}"
                )));
            }
        }
    }
    Ok(r)
}

fn target_kme(kme: &Kme, slave: &str) -> String {
    match (kme.inner.sites.get(slave), &kme.inner.config.peer) {
        (Some(SaeSite::Peer), Some(p)) => p.kme_id.clone(),
        _ => kme.inner.config.kme_id.clone(),
    }
}

fn status(kme: &Kme, caller: &str, slave: &str) -> Resp {
    if !kme.inner.sites.contains_key(slave) {
        return bad("slave SAE ID is not known to this KME");
    }
    if slave == caller {
        return bad("master and slave SAE IDs shall differ");
    }
    let c = &kme.inner.config;
    let key_bytes = u64::from(c.key_size_bits / 8);
    let mut ext = json!({
        "store": kme.inner.store_kind,
        "waiting_keys": kme.waiting_keys(),
        "peer_reachable": kme.inner.peer_up.load(Ordering::Relaxed),
    });
    if c.test_source.is_some() {
        ext["test_source"] = json!(true);
        ext["warning"] = json!("TEST KEY SOURCE: keys derive from a shared secret, not from QKD");
    }
    let s = Status {
        source_kme_id: c.kme_id.clone(),
        target_kme_id: target_kme(kme, slave),
        master_sae_id: caller.to_owned(),
        slave_sae_id: slave.to_owned(),
        key_size: u64::from(c.key_size_bits),
        stored_key_count: (kme.available_bytes() / key_bytes).min(c.max_key_count),
        max_key_count: c.max_key_count,
        max_key_per_request: u64::from(c.max_key_per_request),
        max_key_size: u64::from(c.max_key_size_bits),
        min_key_size: u64::from(c.min_key_size_bits),
        max_sae_id_count: u64::from(c.max_sae_id_count),
        status_extension: Some(ext),
    };
    match serde_json::to_vec(&s) {
        Ok(b) => json_resp(StatusCode::OK, Bytes::from(b)),
        Err(_) => unavailable("could not encode status"),
    }
}

#[allow(clippy::too_many_lines)]
async fn enc_keys(kme: &Kme, master: &str, slave: &str, r: KeyRequest) -> Resp {
    let c = &kme.inner.config;
    if slave == master {
        return bad("master and slave SAE IDs shall differ");
    }
    if !kme.inner.sites.contains_key(slave) {
        return bad("slave SAE ID is not known to this KME");
    }
    let number = r.number.unwrap_or(1);
    if number == 0 || number > u64::from(c.max_key_per_request) {
        return bad(&format!(
            "number shall be between 1 and max_key_per_request ({})",
            c.max_key_per_request
        ));
    }
    let size = r.size.unwrap_or(u64::from(c.key_size_bits));
    if !size.is_multiple_of(8) {
        return bad("size shall be a multiple of 8");
    }
    if size < u64::from(c.min_key_size_bits) || size > u64::from(c.max_key_size_bits) {
        return bad(&format!(
            "size shall be between min_key_size ({}) and max_key_size ({})",
            c.min_key_size_bits, c.max_key_size_bits
        ));
    }
    let mut slaves = vec![slave.to_owned()];
    if let Some(extra) = &r.additional_slave_sae_ids {
        if extra.is_empty() {
            return bad("additional_slave_SAE_IDs shall not be empty when present");
        }
        if extra.len() > c.max_sae_id_count as usize {
            return bad(&format!(
                "at most max_SAE_ID_count ({}) additional slave SAE IDs",
                c.max_sae_id_count
            ));
        }
        for s in extra {
            if s.trim().is_empty() {
                return bad("additional slave SAE IDs shall not be blank");
            }
            if s == master || slaves.contains(s) {
                return bad(
                    "additional slave SAE IDs shall not repeat the master, the slave or each other",
                );
            }
            if !kme.inner.sites.contains_key(s) {
                return bad("additional slave SAE ID is not known to this KME");
            }
            slaves.push(s.clone());
        }
    }
    if let Some(m) = &r.extension_mandatory
        && !m.is_empty()
    {
        {
            let names: Vec<Value> = m
                .iter()
                .flat_map(|v| match v {
                    Value::Object(o) => o.keys().map(|k| Value::String(k.clone())).collect(),
                    other => vec![other.clone()],
                })
                .collect();
            return error(
                StatusCode::BAD_REQUEST,
                "not all extension_mandatory parameters are supported",
                Some(json!([{ "extension_mandatory_unsupported": names }])),
            );
        }
    }
    let (local, remote): (Vec<String>, Vec<String>) = slaves
        .into_iter()
        .partition(|s| kme.inner.sites.get(s) == Some(&SaeSite::Local));
    if !remote.is_empty() && !kme.inner.peer_up.load(Ordering::Relaxed) {
        // Fail fast while the peer is known to be down; the void task flips the flag back.
        return unavailable("peer KME unavailable");
    }
    #[allow(clippy::cast_possible_truncation)]
    // both bounded by validated config (<= 10000, <= 2^29)
    let (number, size_bytes) = (number as usize, (size / 8) as usize);
    let reserved = kme
        .call(|reply| Op::Reserve {
            master: master.to_owned(),
            local,
            remote,
            number,
            size_bytes,
            reply,
        })
        .await;
    let (keys, anns) = match reserved {
        Ok(Ok(k)) => k,
        Ok(Err(r)) => return refusal(&r),
        Err(_) => return unavailable("KME stopping"),
    };
    if !anns.is_empty()
        && let Err(e) = kme.announce(anns).await
    {
        {
            tracing::warn!(error = %e, "peer announce failed; keys voided");
            return unavailable("peer KME unavailable");
        }
    }
    for (id, _) in &keys {
        tracing::info!(target: "audit", event = "enc_keys", key_id = %id, master, slave, size_bits = size);
    }
    key_container(&keys)
}

async fn dec_keys(kme: &Kme, slave: &str, master: &str, ids: Vec<Uuid>) -> Resp {
    if master == slave {
        return bad("master and slave SAE IDs shall differ");
    }
    if !kme.inner.sites.contains_key(master) {
        return bad("master SAE ID is not known to this KME");
    }
    if ids.is_empty() {
        return bad("key_IDs shall not be empty");
    }
    if ids.len() > kme.inner.config.max_key_per_request as usize {
        return bad("more key IDs than max_key_per_request");
    }
    let r = kme
        .call(|reply| Op::Take {
            slave: slave.to_owned(),
            master: master.to_owned(),
            ids,
            reply,
        })
        .await;
    match r {
        Ok(Ok(keys)) => {
            for (id, _) in &keys {
                tracing::info!(target: "audit", event = "dec_keys", key_id = %id, master, slave);
            }
            key_container(&keys)
        }
        Ok(Err(r)) => {
            if r == Refusal::Unauthorized {
                tracing::warn!(target: "audit", event = "dec_keys_unauthorized", master, slave);
            }
            refusal(&r)
        }
        Err(_) => unavailable("KME stopping"),
    }
}

async fn announce(kme: &Kme, identity: Option<&str>, req: Request<Incoming>) -> Resp {
    let Some(peer) = &kme.inner.config.peer else {
        return bad("unknown resource");
    };
    if identity != Some(peer.cert_identity.as_str()) {
        return unauthorized("only the peer KME may announce keys");
    }
    if req.method() != Method::POST {
        return bad("announce takes POST");
    }
    let body = match read_body(req, 16 << 20).await {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Ok(b) = serde_json::from_slice::<AnnounceBody>(&body) else {
        return bad("malformed announcement");
    };
    let anns = b.announcements;
    match kme.call(|reply| Op::Announce { anns, reply }).await {
        Ok(results) => {
            let results = results
                .into_iter()
                .map(|r| r.err().map(|e| format!("{e:?}")))
                .collect();
            match serde_json::to_vec(&AnnounceResult { results }) {
                Ok(v) => json_resp(StatusCode::OK, Bytes::from(v)),
                Err(_) => unavailable("encode failed"),
            }
        }
        Err(_) => unavailable("KME stopping"),
    }
}
