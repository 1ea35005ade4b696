-- Open cases by deadline, for the escalation sweeper (`Store::overdue_cases`): `due_at` is the
-- deadline of a case that is open (reported, accepted, in progress: `case::Status::is_open`) and
-- not deleted, NULL for every other record. Computed on every write like the scope columns;
-- filled here once for the cases already stored.
ALTER TABLE records ADD COLUMN due_at INTEGER;
UPDATE records
   SET due_at = json_extract(body, '$.fields.deadline.value')
 WHERE collection = 'cases'
   AND deleted = 0
   AND json_extract(body, '$.fields.status.value') IN ('reported', 'accepted', 'in_progress')
   AND json_type(body, '$.fields.deadline.value') = 'integer';
CREATE INDEX records_due_at ON records (due_at, id) WHERE due_at IS NOT NULL;
