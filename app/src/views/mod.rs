//! The pure parts of the screens, compiled and tested natively like `sync`'s: which tab is
//! current, what the home tiles count, whom a case may be assigned to, what the supervision
//! queue holds. The screens (`ui`, wasm) render them.

pub mod assign;
pub mod home;
pub mod nav;
pub mod supervision;
