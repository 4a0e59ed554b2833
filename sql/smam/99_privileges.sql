-- The functions that check the caller's office themselves are executable
-- by every working group role: a role holding the wrong office, or none,
-- meets smam's own refusal (42501, the requirement, what to do), never
-- PostgreSQL's bare "permission denied". Granted by group only, with no
-- check of their own (the group is the check): the worker's steps
-- smam.dispatch(), smam.check_account_urls(), smam.pull_metrics()
-- (smam_admin), the audit's reads (not smam_analyst), and everything to
-- smam_public beyond the public index (docs/reference.md, "Group roles").
DO $grants$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'smam.abandon_account(bigint, text)', 'smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text)',
    'smam.add_department(text, text, smam.application, integer)', 'smam.add_specification(text, text, smam.specification_rule, text, text, text)',
    'smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text)', 'smam.approve_plan(bigint, text)',
    'smam.approve_post(bigint)', 'smam.approve_strategy(bigint, text)', 'smam.archive_account(bigint, text, text, text)',
    'smam.archive_audit_log(bigint, text, text)', 'smam.attach_implementation_plan(bigint, bigint)', 'smam.audit_export(bigint)',
    'smam.cancel_post(bigint, text)', 'smam.complete_evaluation(bigint, text, boolean)', 'smam.configure_account(bigint, jsonb)',
    'smam.confirm_credential(bigint)', 'smam.create_post(bigint, bigint[], timestamptz)',
    'smam.decide(text, bigint, smam.approval_status, text)', 'smam.delegate(name, timestamptz, bigint, timestamptz, text)',
    'smam.draft_plan(bigint, text, text, text, text, text, text, text, text, bigint)',
    'smam.draft_strategy(bigint, text, text, text, text, text, text, text, text, date, bigint)',
    'smam.edit_post(bigint, text, text, timestamptz)', 'smam.end_appointment(bigint, text, timestamptz)',
    'smam.import_index(text, boolean)', 'smam.import_index_feed(jsonb, text, boolean)',
    'smam.import_index_feeds(jsonb, jsonb, boolean)', 'smam.confirm_department_candidate(bigint, text, text, text)',
    'smam.map_department_candidate(bigint, bigint, text)', 'smam.move_account(bigint, bigint, text)',
    'smam.merge_departments(bigint, bigint, text)', 'smam.merge_problems(bigint, bigint)',
    'smam.move_problems(bigint, smam.stage)',
    'smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date)',
    'smam.plan_account(bigint, text, text, text, text, smam.official_language, text, bigint)',
    'smam.plan_missing(bigint)', 'smam.plan_pia(bigint, text, text, date)', 'smam.plan_pia_problem(bigint, text, date)',
    'smam.publish_index()',
    'smam.recommend_corrective_action(bigint, text, text, date, text)', 'smam.record_consequence(bigint, text, text, bigint)',
    'smam.record_corrective_measure(bigint, text, boolean)', 'smam.record_effective_date(text, date, text)',
    'smam.record_platform_review(text, smam.platform_review_kind, date, smam.review_outcome, date, text)',
    'smam.record_standard_review(date, text)', 'smam.register_principal(name, text, text, bigint)',
    'smam.request_report(bigint, date, text, text, date, date)', 'smam.review_submission(bigint, boolean, text)',
    'smam.revise(text, bigint, text, text)', 'smam.revoke_credential(bigint)', 'smam.schedule_post(bigint)',
    'smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[])',
    'smam.set_credential(bigint, text, timestamptz)', 'smam.set_enforcement(boolean, text, timestamptz)',
    'smam.set_publishing_policy(bigint, integer, jsonb)', 'smam.set_service_standard(text, interval)',
    'smam.start_evaluation(bigint, text)',
    'smam.submit(bigint, smam.submission_kind, text, jsonb, text, text, smam.official_language)',
    'smam.submit_post(bigint)', 'smam.submit_report(bigint, text)', 'smam.transition(bigint, smam.stage, text)']
  LOOP
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst', f);
  END LOOP;
END
$grants$;

-- Last: nothing of smam is granted to PUBLIC. Functions are executable by
-- PUBLIC when created; take that back, leaving the grants made to the
-- smam_* roles above.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON SCHEMA smam FROM PUBLIC;
