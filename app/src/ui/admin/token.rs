//! The signed-in admin's token, which the admin screens' requests carry (users, the user import,
//! the grid import).

use crate::sync::client;

/// The signed-in admin's token, or the message to show when nobody is signed in.
pub(crate) fn token() -> Result<String, String> {
    client()
        .map(|c| c.token())
        .ok_or_else(|| "not signed in".to_owned())
}
