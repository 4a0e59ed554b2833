-- 6.2.3.1 names "reviews of social media platform-specific functionality
-- and terms of use": functionality is a review of its own, and a platform is
-- pre-reviewed only with it accepted and current, like the terms of use and
-- the 6.2.3.2 assessments (issue 16). Acting as the smam_* roles.
BEGIN;
\ir _setup.psql
SELECT plan(16);

-- The entity's reviews of a platform, every kind but functionality, accepted for a year.
CREATE FUNCTION pg_temp.reviewed_but_functionality(platform text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(tap.val('t_reviewer', format($q$SELECT smam.record_platform_review(%L, %L, smam.today() - 10,
                       'accepted', smam.today() + 355, 'review')$q$, platform, k)))
    FROM unnest(enum_range(NULL::smam.platform_review_kind)) k WHERE k <> 'functionality'
$$;
-- The hint of the refusal a statement meets as a role.
CREATE FUNCTION pg_temp.hint(who name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  EXECUTE q;
  RESET ROLE;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;

SELECT is(enum_range(NULL::smam.platform_review_kind)::text[],
  ARRAY['functionality', 'terms_of_use', 'privacy_risk', 'security_risk', 'model_pia'],
  'the kinds of review: functionality and terms of use (6.2.3.1), privacy and security risks, model PIA (6.2.3.2)');
SELECT is(pg_temp.reviewed_but_functionality('facebook'), 4::bigint, 'the reviewer records the terms of use and the 6.2.3.2 assessments of Facebook');
SELECT is(smam.pre_reviewed('facebook'), false, 'without a review of its functionality, Facebook is not pre-reviewed');
SELECT is(smam.pre_review_gaps('facebook'), ARRAY['functionality: no review by ' || to_char(smam.today(), 'YYYY-MM-DD')],
  '... and the gap says so');
SELECT is(tap.val('t_head', $$SELECT array_to_string(gaps, '; ') FROM smam.pre_reviewed_platform WHERE platform = 'facebook'$$),
  'functionality: no review by ' || to_char(smam.today(), 'YYYY-MM-DD'), 'the entity''s list shows it to a department');

-- An account planned on Facebook under an approved plan with a completed PIA for it.
SELECT tap.approved_plan(:d1) AS p \gset
SELECT tap.val('t_staff', format($$SELECT smam.plan_pia(%s, 'facebook', 'PIA-FB-1', smam.today() - 5)$$, :p)) IS NULL AS pia;
SELECT tap.val('t_head', format('SELECT smam.approve_plan(%s)', :p)) IS NULL AS reapproved;
SELECT tap.val('t_staff', format($$SELECT smam.plan_account(%s, 'facebook', 'https://www.facebook.com/DepartmentOne', 'One', 'Un', 'bilingual', 'Notices', %s)$$,
                                 :d1, :p)) AS a \gset
SELECT tap.accepted(:a, 'creation') IS NOT NULL AS accepted;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.2.3',
  'the entity does not create an account on a platform whose functionality is not reviewed');
SELECT matches(tap.detail('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)),
  '^Not accepted and current: functionality: no review by [0-9-]+\.', '... the detail names the missing review');
SELECT is(tap.act('t_head', $$SELECT smam.record_platform_review('facebook', 'functionality', smam.today(), 'accepted', NULL, 'mine')$$),
  '42501 6.2.3', 'a department does not review a platform''s functionality');
SELECT is(tap.act('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'functionality', smam.today() - 1, 'rejected', NULL, 'GC functionality review 1')$$),
  'ok', 'the entity''s reviewer records a functionality review, rejected');
SELECT is(smam.pre_review_gaps('facebook'),
  ARRAY['functionality: rejected on ' || to_char(smam.today() - 1, 'YYYY-MM-DD') || ' (GC functionality review 1)'],
  'a rejected functionality review leaves the platform not pre-reviewed');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.2.3',
  '... and the account is still not created');
SELECT is(tap.act('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'functionality', smam.today(), 'accepted', smam.today() + 365, 'GC functionality review 2')$$),
  'ok', 'the reviewer records it accepted');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), 'ok',
  'the entity creates the account once the platform is pre-reviewed');

-- Compliance (6.2.3): a live account on a platform whose functionality is not reviewed.
SELECT tap.val('t_admin', $$SELECT smam.record_effective_date('6.2.3', '2014-01-01', 'TBS notice')$$) IS NULL AS effective;
SELECT pg_temp.reviewed_but_functionality('youtube') AS youtube_reviews;
SELECT tap.val('t_entity', format($$SELECT smam.onboard_account(%s, 'youtube', 'https://www.youtube.com/@DepartmentOne', 'One', 'Un', 'bilingual', 'in the index')$$, :d1)) AS y \gset
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.3' AND object_label = 'youtube'),
  format('1 accounts are live on youtube, which is not pre-reviewed on %1$s: functionality: no review by %1$s.', to_char(smam.today(), 'YYYY-MM-DD')),
  'a live account on a platform without a functionality review is a 6.2.3 finding against the entity');
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('youtube', 'functionality', smam.today(), 'accepted', NULL, 'GC functionality review')$$) IS NOT NULL AS reviewed;
SELECT is((SELECT count(*)::int FROM smam.compliance_findings WHERE requirement = '6.2.3' AND object_label = 'youtube'), 0,
  '... until the entity reviews it');
SELECT is(pg_temp.hint('t_reviewer', $$SELECT smam.record_platform_review('youtube', NULL, smam.today(), 'accepted', NULL, 'r')$$),
  'Give the kind (functionality, terms_of_use, privacy_risk, security_risk, model_pia), the date reviewed and accepted or rejected.',
  'a review without its kind is refused, the hint naming every kind');
SELECT * FROM finish();
ROLLBACK;
