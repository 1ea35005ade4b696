//! Tongxin app library: components, local store, sync client.
