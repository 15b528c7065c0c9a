-- Log-only rules (POST /api/v1/mitigations { "mode": "log" }): the kernel
-- counts what they match and drops nothing, a dry run of a drop rule. The
-- rule's action says which; its commands read `-j LOG`.
ALTER TABLE mitigation_rules DROP CONSTRAINT mitigation_rules_action_check;
ALTER TABLE mitigation_rules ADD CONSTRAINT mitigation_rules_action_check CHECK (action IN ('drop', 'log'));
