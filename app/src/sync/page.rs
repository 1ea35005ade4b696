//! Reading a pull page: the pure decoder lives in `tongxin_shared::pull_page` (tested and fuzzed
//! natively there, with its corpus replayed in CI); the pull loop uses it through this path.

pub use tongxin_shared::pull_page::{grow, halve, judge, Page, Skipped, Step, PULL_LIMIT};
