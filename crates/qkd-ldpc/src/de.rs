//! Density evolution.
