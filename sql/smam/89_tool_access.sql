-- Who sees and does what in the platform management tool. Departments see
-- their own rows; the entity, TBS and administrators see all. No smam_*
-- role reads smam.account_credential, not even through a view: only its
-- owner does, which is the role the publishing worker connects as and the
-- role smam.dispatch() and the other senders run as (SECURITY DEFINER).

ALTER TABLE smam.content_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.publishing_policy ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.approval_tier ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post_target ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post_approval ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.connector ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.account_credential ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.delivery ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.delivery_attempt ENABLE ROW LEVEL SECURITY;

CREATE POLICY content_item_read ON smam.content_item FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY publishing_policy_read ON smam.publishing_policy FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY approval_tier_read ON smam.approval_tier FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY post_read ON smam.post FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY post_target_read ON smam.post_target FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (EXISTS (SELECT 1 FROM smam.post p WHERE p.id OPERATOR(pg_catalog.=) post_id));
CREATE POLICY post_approval_read ON smam.post_approval FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (EXISTS (SELECT 1 FROM smam.post p WHERE p.id OPERATOR(pg_catalog.=) post_id));
CREATE POLICY connector_read ON smam.connector FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY delivery_read ON smam.delivery FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY delivery_attempt_read ON smam.delivery_attempt FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING (EXISTS (SELECT 1 FROM smam.delivery d WHERE d.id OPERATOR(pg_catalog.=) delivery_id));

GRANT SELECT ON smam.content_item, smam.publishing_policy, smam.approval_tier, smam.post,
  smam.post_target, smam.post_approval, smam.connector, smam.delivery, smam.delivery_attempt,
  smam.account_tool_status
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT SELECT ON smam.delivery, smam.delivery_attempt, smam.account_tool_status TO smam_analyst;

GRANT EXECUTE ON FUNCTION smam.account_is_live(smam.stage), smam.approval_tiers(bigint),
  smam.post_language_gaps(bigint), smam.template_placeholders(), smam.managed_in_tool(bigint)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION
  smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text),
  smam.set_publishing_policy(bigint, integer, jsonb),
  smam.create_post(bigint, bigint[], timestamptz), smam.edit_post(bigint, text, text, timestamptz),
  smam.submit_post(bigint), smam.approve_post(bigint), smam.schedule_post(bigint),
  smam.cancel_post(bigint, text), smam.set_credential(bigint, text, timestamptz),
  smam.revoke_credential(bigint)
  TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION
  smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[]),
  smam.http_url_problem(text, text[])
  TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.dispatch(integer) TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.content_item', '');
SELECT pg_catalog.pg_extension_config_dump('smam.content_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.publishing_policy', '');
SELECT pg_catalog.pg_extension_config_dump('smam.approval_tier', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_target', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_approval', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.connector', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_credential', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_attempt', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_attempt_id_seq', '');
