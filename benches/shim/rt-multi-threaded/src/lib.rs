//! Holds nothing: the bench is `../../benches/rt_multi_threaded.rs`.
