//! Tongxin server library: config, router, stores, sync endpoints.
