//! Records as a reader may see them: residents' personal data masked above the level that
//! handles it (`tongxin_shared::authz::sees_personal`). Every answer that hands out records goes
//! through here: the pull ([`stored_as_seen_by`]) and a grid's history ([`as_seen_by`]).

use crate::error::ApiError;
use crate::store::{StoreError, StoredBody};
use serde_json::value::RawValue;
use tongxin_shared::authz::{sees_personal, Place, Principal};
use tongxin_shared::mask::mask_record;
use tongxin_shared::wire::PulledRecord;
use tongxin_shared::Record;

/// Records as `principal` may see them (each at its place).
pub(crate) fn as_seen_by(
    principal: &Principal,
    records: Vec<(u64, Record)>,
    places: Vec<Place>,
) -> Vec<PulledRecord> {
    records
        .into_iter()
        .zip(places)
        .map(|((seq, mut record), place)| {
            if !sees_personal(principal, &place) {
                mask_record(&mut record);
            }
            PulledRecord { seq, record }
        })
        .collect()
}

/// Stored records as `principal` may see them, each written as a [`PulledRecord`]
/// (`{"seq":…,` then the record's compact entries). A body the reader may see whole is handed
/// on as stored, without decoding it and encoding it again: that was most of the server's
/// work in a warden's pull. A body to mask is decoded, masked and encoded.
pub(crate) fn stored_as_seen_by(
    principal: &Principal,
    records: Vec<(u64, StoredBody)>,
    places: &[Place],
) -> Result<Vec<Box<RawValue>>, ApiError> {
    records
        .into_iter()
        .zip(places)
        .map(|((seq, body), place)| {
            let whole = sees_personal(principal, place);
            let text = if let Some(text) = whole.then(|| with_seq(seq, &body.0)).flatten() {
                text
            } else {
                let mut record = body.decode()?;
                if !whole {
                    mask_record(&mut record);
                }
                serde_json::to_string(&PulledRecord { seq, record }).map_err(corrupt)?
            };
            // Checked as JSON (a scan, far cheaper than decoding): a damaged body fails this
            // answer, never hands the app a broken page.
            Ok(RawValue::from_string(text).map_err(corrupt)?)
        })
        .collect()
}

/// `{"seq":N,` and the stored object's entries; `None` if the body is no non-empty object.
fn with_seq(seq: u64, body: &str) -> Option<String> {
    let entries = body.trim_start().strip_prefix('{')?;
    if entries.trim_start().starts_with('}') {
        return None;
    }
    let mut text = String::with_capacity(body.len() + 24);
    text.push_str("{\"seq\":");
    text.push_str(&seq.to_string());
    text.push(',');
    text.push_str(entries);
    Some(text)
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
