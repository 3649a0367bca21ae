-- Version 3 of the runtime's tables: idempotency keys are scoped by caller,
-- so one caller can neither replay another's response nor learn which keys
-- another has used. Keys stored before are kept under the empty caller (the
-- anonymous one): an authenticated retry across this upgrade runs again.
ALTER TABLE cppsvc_idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE cppsvc_idempotency_keys DROP CONSTRAINT cppsvc_idempotency_keys_pkey;
ALTER TABLE cppsvc_idempotency_keys ADD PRIMARY KEY (method, caller, key);
