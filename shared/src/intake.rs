//! A push as the server receives it, and the first judgement of each op in it: decoding from
//! its own raw text and the shape check (`schema::validate_op`). Pure, so the fuzz targets and the property tests run the server's own
//! code path; the rules of who may write what come after, in `policy::plan`.

use crate::ids::{ActorId, OpId};
use crate::op::Op;
use crate::schema::validate_op;
use crate::wire::{OpResult, Rejection};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A push as received: ops stay raw JSON so that one malformed op is rejected by itself while
/// the rest of the batch is still judged.
#[derive(Debug, Deserialize)]
pub struct RawPush {
    pub protocol: u16,
    pub actor: ActorId,
    pub ops: Vec<Box<RawValue>>,
}

/// A refusal of op `op_id` with a stable `code` (one of [`crate::wire::REFUSAL_CODES`]).
pub fn reject(op_id: OpId, code: &str, message: impl Into<String>) -> OpResult {
    OpResult::Rejected {
        op_id,
        rejected: Rejection {
            code: code.to_owned(),
            message: message.into(),
        },
    }
}

/// Judges one raw op: decodes it once from its raw text and validates its shape. Its clock is
/// judged inside the commit (`policy::plan`), after the op log is asked whether the op is
/// already stored, so a re-sent op is answered with its seq whatever the instance's clock.
/// `Err` is the rejection, naming the op's id when it has a readable one.
pub fn judge(raw: &RawValue, index: usize) -> Result<Op, OpResult> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: OpId,
    }
    let op: Op = serde_json::from_str(raw.get()).map_err(|e| {
        let claimed = serde_json::from_str::<IdOnly>(raw.get()).map_or(OpId::NIL, |x| x.id);
        reject(
            claimed,
            "bad_op",
            format!("op #{index} cannot be read: {e}"),
        )
    })?;
    validate_op(&op).map_err(|e| reject(op.id, &e.code, e.message))?;
    Ok(op)
}
