-- Every arrow of the life cycle: the allowed move, and each guard's refusal
-- with its SQLSTATE and the requirement named in the DETAIL, acting as the
-- smam_* roles. Then the same rules against the table owner's direct SQL.
BEGIN;
\ir _setup.psql
SELECT plan(116);

-- ---- planning -> creation ----
SELECT tap.planned(:d1, 'AcctOne') AS a \gset
SELECT is(stage::text, 'planning', 'a planned account starts in planning') FROM smam.account WHERE id = :a;
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '42501 6.2.2',
  'planning -> creation: only the entity creates (head refused)');
SELECT is(tap.act('t_reviewer', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '42501 6.2.2',
  'planning -> creation: an entity reviewer does not create');
-- The plan relies on the model PIA of X, which the entity has not reviewed.
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.1.2',
  'planning -> creation: refused without a current PIA for the platform (model PIA not reviewed)');
SELECT matches(tap.message('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)),
  'has no privacy impact assessment for x', '... the message names the PIA');
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('x', 'model_pia', smam.today() - 10, 'accepted', NULL, 'model PIA')$$) IS NOT NULL AS model_pia;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.2.3',
  'planning -> creation: refused while the platform is not pre-reviewed');
-- An expired security review does not count.
SELECT tap.val('t_reviewer', format($$SELECT smam.record_platform_review('x', %L, smam.today() - 400, 'accepted', smam.today() - 35, 'old')$$, k))
  FROM unnest(ARRAY['functionality', 'terms_of_use', 'privacy_risk', 'security_risk']) k;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.2.3',
  'planning -> creation: refused when the platform''s reviews have expired');
SELECT ok(smam.pre_review_gaps('x')::text LIKE '%expired on%', 'the gaps say the reviews expired');
SELECT ok(smam.review_current('x', 'security_risk', smam.today() - 36), 'the security review was current before it expired');
SELECT tap.val('t_reviewer', format($$SELECT smam.record_platform_review('x', %L, smam.today() - 1, 'accepted', NULL, 'renewed')$$, k))
  FROM unnest(ARRAY['functionality', 'terms_of_use', 'privacy_risk']) k;
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('x', 'security_risk', smam.today() - 1, 'rejected', NULL, 'risky')$$);
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.2.3',
  'planning -> creation: refused when a review is rejected');
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('x', 'security_risk', smam.today(), 'accepted', NULL, 'fixed')$$);
SELECT ok(smam.pre_reviewed('x'), 'X is pre-reviewed today');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.1.3',
  'planning -> creation: refused without an accepted creation submission');
SELECT is(tap.act('t_staff', format($$SELECT smam.submit(%s, 'creation')$$, :a)), '42501 6.1.3',
  'staff do not make submissions');
SELECT tap.val('t_head', format($$SELECT smam.submit(%s, 'creation')$$, :a)) AS sub \gset
SELECT is(tap.act('t_head', format($$SELECT smam.submit(%s, 'creation')$$, :a)), '23505 6.1.3',
  'one pending submission of a kind at a time');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.1.3',
  'planning -> creation: a pending submission is not enough');
SELECT is(tap.act('t_reviewer', format($$SELECT smam.review_submission(%s, false)$$, :sub)), '22023 6.2.1',
  'a rejection needs its reasons');
SELECT is(tap.act('t_reviewer', format($$SELECT smam.review_submission(%s, false, 'No name yet')$$, :sub)), 'ok',
  'the reviewer rejects with reasons');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :a)), '55000 6.1.3',
  'planning -> creation: a rejected submission is not enough');
SELECT tap.accepted(:a, 'creation') AS sub \gset
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation', 'registered')$$, :a)), 'ok',
  'planning -> creation: allowed to the entity once every guard holds');
SELECT is(consumed_stage::text, 'creation', 'the creation submission is used up by the move')
  FROM smam.submission WHERE id = :sub;
SELECT is((SELECT string_agg(concat_ws('|', from_stage, to_stage, moved_by, office, note, submission_id = :sub), ' ; ' ORDER BY id)
             FROM smam.stage_history WHERE account_id = :a),
  'planning|t_staff|department_staff ; planning|creation|t_entity|entity_official|registered|t',
  'the stage history records who, the office held, the note and the submission');

-- ---- creation -> configuration ----
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'configuration')$$, :a)), '42501 6.2.2',
  'creation -> configuration: only the entity configures');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'configuration')$$, :a)), '55000 6.1.3',
  'creation -> configuration: refused without an accepted configuration submission');
SELECT is(tap.act('t_head', format($$SELECT smam.submit(%s, 'configuration')$$, :a)), '22023 6.1.3',
  'a configuration submission carries the configuration');
SELECT tap.accepted(:a, 'configuration', tap.good_config() - 'avatar') AS sub \gset
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'configuration')$$, :a)), 'ok',
  'creation -> configuration: allowed to the entity with an accepted submission');
SELECT is(configuration, tap.good_config() - 'avatar', 'the accepted configuration is applied') FROM smam.account WHERE id = :a;

-- ---- configuration -> implementation ----
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'implementation')$$, :a)), '42501 6.1.2',
  'configuration -> implementation: only the head of communications approves');
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'implementation')$$, :a)), '55000 6.1.5',
  'configuration -> implementation: refused when the specifications are not met');
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config())$$, :a)), '42501 6.2.2',
  'in configuration, only the entity changes the configuration');
SELECT is(tap.act('t_entity', format($$SELECT smam.configure_account(%s, tap.good_config())$$, :a)), '55000 6.1.3',
  'in configuration, the entity applies no configuration that was not submitted and accepted');
SELECT tap.accepted(:a, 'configuration', tap.good_config()) AS good_sub \gset
SELECT is(tap.act('t_entity', format($$SELECT smam.configure_account(%s, tap.good_config())$$, :a)), 'ok',
  'the entity configures the account as the accepted submission proposes');
SELECT is(consumed_stage::text, 'configuration', '... which is used up in the stage it was applied in')
  FROM smam.submission WHERE id = :good_sub;
SELECT is(tap.act('t_old', format($$SELECT smam.transition(%s, 'implementation')$$, :a)), '42501',
  'configuration -> implementation: a head whose appointment expired is refused, told the term ended');
SELECT is(tap.act('t_old', format($$UPDATE smam.account SET stage = 'implementation' WHERE id = %s$$, :a)), 'ok',
  '... and a plain UPDATE of theirs finds no row (row-level security)');
SELECT is(tap.act('t_designate', format($$SELECT smam.transition(%s, 'implementation', 'live')$$, :a)), 'ok',
  'configuration -> implementation: allowed to a designate within the delegation');
SELECT is(office::text, 'designate', 'the history records the office as designate')
  FROM smam.stage_history WHERE account_id = :a AND to_stage = 'implementation';
SELECT is(approved_by || ' ' || office || ' plan ' || plan_id || ' v' || plan_version,
          't_designate designate plan ' || (SELECT plan_id FROM smam.account WHERE id = :a) || ' v'
            || (SELECT p.version FROM smam.implementation_plan p JOIN smam.account x ON x.plan_id = p.id WHERE x.id = :a),
          '6.1.2: the move is the approval of the account, recorded with the plan and its version')
  FROM smam.account_approval WHERE account_id = :a;
SELECT is(configuration_sha256, smam.account_configuration_sha256(x.configuration, x.name_en, x.name_fr, x.official_language),
          '... and bound to the exact configuration approved')
  FROM smam.account_approval v JOIN smam.account x ON x.id = v.account_id WHERE v.account_id = :a;
SELECT throws_ok(format('UPDATE smam.account_approval SET note = %L WHERE account_id = %s', 'forged', :a), '42501', NULL,
  'an approval is a sealed record');
SELECT is(listed_on, smam.today(), 'the account is listed on the day it goes live') FROM smam.account WHERE id = :a;

-- ---- a live account's configuration ----
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"display_name": "One"}')$$, :a)), '55000 6.1.3',
  'live: a configuration change needs an accepted configuration submission');
SELECT tap.accepted(:a, 'configuration', tap.good_config() || '{"display_name": "One"}') AS sub \gset
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"display_name": "Two"}')$$, :a)), '55000 6.1.3',
  'live: the change must be the configuration the entity accepted');
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"display_name": "One"}')$$, :a)), 'ok',
  'live: the accepted configuration is applied');
SELECT isnt(consumed_at, NULL, 'and its submission is used up') FROM smam.submission WHERE id = :sub;
SELECT is(tap.act('t_entity', format($$SELECT smam.configure_account(%s, tap.good_config())$$, :a)), '55000 6.1.3',
  'live: a configuration applied before (and used up) cannot be applied again to revert the live one');
SELECT tap.accepted(:a, 'configuration', tap.good_config() || '{"display_name": "Three"}') AS stale \gset
SELECT tap.accepted(:a, 'configuration', tap.good_config() || '{"display_name": "Four"}') AS fresh \gset
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"display_name": "Four"}')$$, :a)), 'ok',
  'live: the later accepted configuration is applied');
SELECT is(superseded_by, :fresh::bigint, 'the earlier accepted one, never applied, is superseded by it')
  FROM smam.submission WHERE id = :stale;
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"display_name": "Three"}')$$, :a)), '55000 6.1.3',
  'live: a superseded configuration cannot be applied');
SELECT is(configuration ->> 'display_name', 'Four', 'the live configuration is the last one the entity accepted and applied')
  FROM smam.account WHERE id = :a;
SELECT tap.accepted(:a, 'configuration', tap.good_config() || '{"notice_url": "https://example.com/notice"}') AS sub \gset
SELECT is(tap.act('t_head', format($$SELECT smam.configure_account(%s, tap.good_config() || '{"notice_url": "https://example.com/notice"}')$$, :a)), '55000 6.1.5',
  'live: even an accepted configuration must meet the specifications');
SELECT is(tap.act('t_head', format($$UPDATE smam.account SET name_fr = NULL WHERE id = %s$$, :a)), '55000 6.1.3',
  'live: names are configuration too');

-- ---- implementation <-> evaluation ----
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'evaluation')$$, :a)), '55000 6.1.2',
  'implementation -> evaluation: refused without an evaluation under way');
SELECT is(tap.act('t_staff', format($$SELECT smam.start_evaluation(%s)$$, :a)), '42501 6.1.2',
  'staff do not start an evaluation');
SELECT is(tap.act('t_head', format($$SELECT smam.start_evaluation(%s, 'annual')$$, :a)), 'ok',
  'implementation -> evaluation: the head starts the evaluation');
SELECT is(stage::text, 'evaluation', 'the account is in evaluation') FROM smam.account WHERE id = :a;
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'implementation')$$, :a)), '55000 6.1.2',
  'evaluation -> implementation: refused before the evaluation is completed');
SELECT is(tap.act('t_head', format($$SELECT smam.complete_evaluation(%s, '  ')$$, :a)), '22023 6.1.2',
  'an evaluation is completed with findings');
SELECT is(tap.act('t_head', format($$SELECT smam.complete_evaluation(%s, 'on target')$$, :a)), 'ok',
  'evaluation -> implementation: allowed once completed with findings');
SELECT is(stage::text, 'implementation', 'back in implementation') FROM smam.account WHERE id = :a;

-- ---- implementation -> disposition -> disposed ----
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'disposition')$$, :a)), '55000 6.1.3',
  'implementation -> disposition: refused without an accepted disposition submission');
SELECT tap.accepted(:a, 'disposition') AS sub \gset
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'disposition')$$, :a)), '42501 6.2.2',
  'implementation -> disposition: only the entity disposes');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'disposition')$$, :a)), 'ok',
  'implementation -> disposition: allowed with an accepted submission');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'disposed')$$, :a)), '55000 6.2.2',
  'disposition -> disposed: refused without an archive record');
SELECT is(tap.act('t_entity', format($$SELECT smam.archive_account(%s, 'https://records/x.zip', NULL)$$, :a)), '22023 6.2.2',
  'an archive has its checksum');
SELECT is(tap.act('t_entity', format($$SELECT smam.archive_account(%s, NULL, NULL, 'Nothing of value')$$, :a)), 'ok',
  'the entity records why no archive was kept');
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'disposed')$$, :a)), '42501 6.2.2',
  'disposition -> disposed: only the entity');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'disposed')$$, :a)), 'ok',
  'disposition -> disposed: allowed with the archive record');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'planning')$$, :a)), '55000 6.1.2',
  'a disposed account moves no more');
SELECT is(tap.act('t_entity', format($$UPDATE smam.account SET purpose = 'still here' WHERE id = %s$$, :a)), '55000 6.1.2',
  'nor takes an edit, not even of a column the rules do not read');
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET purpose = 'still here' WHERE id = %s$$, :a)), '42501 6.1.2',
  'a superuser holding no office changes no account at all: authorization comes first');

-- ---- evaluation -> disposition ----
SELECT tap.at_stage(:d1, 'AcctTwo', 'evaluation') AS b \gset
SELECT tap.accepted(:b, 'disposition') AS sub \gset
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'disposition')$$, :b)), 'ok',
  'evaluation -> disposition: allowed with an accepted submission');

-- ---- planning -> disposed, and moves that are not arrows ----
SELECT tap.planned(:d1, 'AcctThree') AS c \gset
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'implementation')$$, :c)), '55000 6.1.2',
  'planning -> implementation is not a move');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'evaluation')$$, :c)), '55000 6.1.2',
  'planning -> evaluation is not a move');
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'disposed')$$, :c)), '22023 6.1.2',
  'planning -> disposed: an abandoned plan needs its reason');
SELECT is(tap.act('t_staff', format($$SELECT smam.abandon_account(%s, 'no budget')$$, :c)), '42501 6.1.2',
  'planning -> disposed: staff do not abandon');
SELECT is(tap.act('t_head', format($$SELECT smam.abandon_account(%s, 'no budget')$$, :c)), 'ok',
  'planning -> disposed: the head abandons with the reason');

-- ---- the table owner's direct SQL meets the same rules ----
SELECT tap.planned(:d1, 'AcctFour') AS e \gset
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET stage = 'creation' WHERE id = %s$$, :e)), '42501 6.2.2',
  'owner: a direct UPDATE of the stage is refused to a superuser without the office');
SELECT tap.val('t_admin', $$SELECT smam.register_principal('postgres', 'Owner', 'owner@example.gc.ca')$$) IS NOT NULL AS owner_registered;
SELECT tap.val('t_admin', $$SELECT smam.appoint('postgres', 'entity_official')$$) IS NOT NULL AS owner_appointed;
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET stage = 'creation' WHERE id = %s$$, :e)), '55000 6.1.3',
  'owner: a direct UPDATE meets the guards (no accepted creation submission)');
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET stage = 'implementation' WHERE id = %s$$, :e)), '55000 6.1.2',
  'owner: a direct UPDATE cannot skip stages');
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET onboarded = true, onboarded_reason = 'x' WHERE id = %s$$, :e)), '55000',
  'owner: cannot mark an account onboarded');
SELECT is(tap.act('postgres', format($$DELETE FROM smam.account WHERE id = %s$$, :e)), '55000 6.1.2',
  'owner: accounts are not deleted');
SELECT is(tap.act('postgres', $$TRUNCATE smam.account CASCADE$$), '55000 6.1.2',
  'owner: accounts are not truncated');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.account (department_id, platform, handle, url, url_key, name_en, official_language, stage)
  VALUES (%s, 'x', 'Sneaky', 'https://x.com/Sneaky', 'https://x.com/sneaky', 'S', 'english', 'implementation')$$, :d1)), '55000 6.1.2',
  'owner: an INSERT past planning is refused');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.account (department_id, platform, handle, url, url_key, name_en, official_language, stage, onboarded, onboarded_reason)
  VALUES (%s, 'x', 'Sneaky', 'https://x.com/Sneaky', 'https://x.com/sneaky', 'S', 'english', 'implementation', true, 'me')$$, :d1)), '42501 6.1.2',
  'owner: an INSERT cannot claim to be onboarded');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.stage_history (account_id, department_id, to_stage, moved_by, moved_at) VALUES (%s, %s, 'disposed', 'me', now())$$, :e, :d1)), '42501 6.1.2',
  'owner: the stage history is written only by smam');
SELECT is(tap.act('postgres', $$UPDATE smam.stage_history SET note = 'rewritten'$$), '42501 6.1.2',
  'owner: the stage history is not rewritten');

-- ---- plain UPDATEs by department roles, row-level security, other edits ----
SELECT tap.at_stage(:d1, 'AcctFive', 'configuration') AS f \gset
SELECT is(tap.val('t_other', format($$WITH u AS (UPDATE smam.account SET stage_note = 'x' WHERE id = %s RETURNING 1) SELECT count(*) FROM u$$, :f)), '0',
  'row-level security: another department''s head neither sees nor changes the account');
SELECT is(tap.val('t_other', format($$SELECT count(*) FROM smam.stage_history WHERE account_id = %s$$, :f)), '0',
  'row-level security: nor reads its history');
SELECT is(tap.val('t_entity', format($$SELECT count(*) FROM smam.stage_history WHERE account_id = %s$$, :f)), '3',
  'the entity reads every history');
SELECT is(tap.act('t_staff', format($$UPDATE smam.account SET stage = 'implementation' WHERE id = %s$$, :f)), '42501 6.1.2',
  'a plain UPDATE by staff meets the trigger: only the head puts an account live');
SELECT is(tap.act('t_head', format($$UPDATE smam.account SET stage = 'implementation', stage_note = 'plain' WHERE id = %s$$, :f)), 'ok',
  'a plain UPDATE by the head makes the move');
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'implementation')$$, :f)), '55000 6.1.2',
  'a move to the stage the account is in is refused');
SELECT is(tap.act('t_entity', format($$UPDATE smam.account SET url = 'https://x.com/Elsewhere' WHERE id = %s$$, :f)), '55000 6.1.2',
  'the address is settled once the account leaves planning');
SELECT is(tap.act('t_head', format($$UPDATE smam.account SET listed_on = '2020-01-01' WHERE id = %s$$, :f)), '42501',
  'listed_on is not granted for update');
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET listed_on = '2020-01-01' WHERE id = %s$$, :f)), '55000',
  'the owner cannot backdate the listing either');
SELECT tap.planned(:d1, 'AcctSix') AS g \gset
SELECT is(tap.act('t_staff', format($$UPDATE smam.account SET url = 'facebook.com/Six' WHERE id = %s$$, :g)), '22023 6.2.4',
  'in planning the address may change, but only to an address on the account''s platform');
SELECT is(tap.act('t_staff', format($$UPDATE smam.account SET url = 'twitter.com/SixToo' WHERE id = %s$$, :g)), 'ok',
  'in planning the address may change');
SELECT is(url || ' ' || handle, 'https://x.com/SixToo SixToo', 'the trigger stores it in canonical form') FROM smam.account WHERE id = :g;
SELECT tap.val('t_other', format($$SELECT smam.draft_plan(%s, 'P')$$, :d2)) AS p2 \gset
SELECT is(tap.act('postgres', format($$UPDATE smam.account SET plan_id = %s WHERE id = %s$$, :p2, :g)), '23503 6.1.2',
  'an account''s plan is one of its department''s');
SELECT is((SELECT count(*)::int FROM smam.move_problems(:g, 'implementation')), 1, 'move_problems says a move would be refused');
SELECT is((SELECT stage::text FROM smam.account WHERE id = :g), 'planning', '... without moving the account');
-- All of them at once: department two has no strategy, its plan is a bare
-- draft, and nobody submitted the account's creation.
SELECT tap.val('t_other', format($$SELECT smam.draft_plan(%s, 'Bare')$$, :d2)) AS p3 \gset
SELECT tap.val('t_other', format($$SELECT smam.plan_pia(%s, 'x')$$, :p3)) IS NULL AS pia;
SELECT tap.val('t_other', format($$SELECT smam.plan_account(%s, 'x', 'https://x.com/ManyProblems', 'Many', NULL, 'english', NULL, %s)$$, :d2, :p3)) AS many \gset
SELECT is(tap.val('t_entity', format($$SELECT string_agg(code || ' ' || substring(detail FROM 'requirement ([0-9.]+) of') || ': ' || message, ' | ' ORDER BY message)
                                        FROM smam.move_problems(%s, 'creation')$$, :many)),
          format('55000 6.1.3: account %1$s has no accepted creation submission | 55000 6.1.1: department %2$s has no approved social media strategy in force | 55000 6.1.2: implementation plan %3$s is incomplete | 55000 6.1.2: implementation plan %3$s is not approved',
                 :many, :d2, :p3),
  'move_problems lists every missing prerequisite, not only the first');
SELECT is((SELECT count(*)::int FROM smam.move_problems(:many, 'evaluation')), 1, 'a move that does not exist is one refusal');
SELECT is(tap.act('t_other', format($$SELECT smam.plan_account(%s, 'facebook', 'https://www.facebook.com/NoPiaHere', 'No PIA', NULL, 'english', NULL, %s)$$, :d2, :p3)),
          '55000 6.1.2', 'an account is planned only under a plan with a PIA for its platform, not found missing at the entity''s move');
SELECT matches(tap.message('t_other', format($$SELECT smam.plan_account(%s, 'facebook', 'https://www.facebook.com/NoPiaHere', 'No PIA', NULL, 'english', NULL, %s)$$, :d2, :p3)),
          'has no privacy impact assessment for facebook', '... saying which platform the plan lacks');
SELECT is(tap.val('t_staff', format($$SELECT string_agg(code, ',') FROM smam.move_problems(%s, 'creation')$$, :many)), '42704',
  'and a role that cannot see the account learns only that');

-- ---- evaluations and archives, whoever writes them ----
SELECT tap.at_stage(:d1, 'AcctSeven', 'implementation') AS h \gset
SELECT is(tap.act('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :h, :d1)), '42501 6.1.2',
  'the owner without an office does not start an evaluation');
SELECT is(tap.act('t_entity', format($$SELECT smam.archive_account(%s, NULL, NULL, 'nothing')$$, :h)), '55000 6.2.2',
  'a live account is not archived');
SELECT is(tap.act('t_head', format($$SELECT smam.start_evaluation(%s)$$, :h)), 'ok', 'the head starts an evaluation');
SELECT is(tap.act('t_head', format($$SELECT smam.complete_evaluation(%s, 'fine')$$, :h)), 'ok', 'and completes it');
SELECT is(tap.act('postgres', format($$UPDATE smam.evaluation SET findings = 'rewritten' WHERE account_id = %s$$, :h)), '42501 6.1.2',
  'a completed evaluation is not rewritten by the owner');

-- ---- planning -> creation: the strategy and plan guards ----
SELECT tap.planned(:d1, 'AcctEight') AS k \gset
SELECT tap.accepted(:k, 'creation') IS NOT NULL AS accepted;
SELECT tap.val('t_head2', format($$SELECT smam.decide('strategy', id, 'retired', 'superseded') FROM smam.strategy WHERE department_id = %s AND status = 'approved' AND program IS NULL$$, :d1)) IS NULL AS retired;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :k)), '55000 6.1.1',
  'planning -> creation: refused when the department has no approved strategy in force');
SELECT tap.val('t_staff', format($$SELECT smam.revise('implementation_plan', plan_id, 'resources', 'Two officers') FROM smam.account WHERE id = %s$$, :k)) AS v;
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Strategy 2', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d1)) AS s2 \gset
SELECT tap.val('t_head', format('SELECT smam.approve_strategy(%s)', :s2)) IS NULL AS approved;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :k)), '55000 6.1.2',
  'planning -> creation: refused when the plan''s approval was voided by an edit');
SELECT matches(tap.message('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :k)), 'implementation plan [0-9]+ is not approved',
  '... the message says the plan is not approved');
SELECT is(tap.act('t_head', format($$SELECT smam.approve_plan(plan_id) FROM smam.account WHERE id = %s$$, :k)), '55000 6.1.1',
  'the plan, still based on the retired strategy, is not approved again: smam does not re-attach it to the new one');
SELECT tap.val('t_staff', format($$SELECT smam.revise('implementation_plan', plan_id, 'strategy_id', %L) FROM smam.account WHERE id = %s$$, :s2, :k)) AS v;
SELECT tap.val('t_head', format($$SELECT smam.approve_plan(plan_id) FROM smam.account WHERE id = %s$$, :k)) IS NULL AS reapproved;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :k)), 'ok',
  'planning -> creation: allowed once the plan is approved again');
SELECT * FROM finish();
ROLLBACK;
