-- The platform management tool (appendix of the Standard: "workflow
-- processes, group and user permissions, and content libraries"; 6.1.4,
-- 6.2.5): a content library per department, posts addressed to live
-- accounts, and the tiered approval workflow.

-- Is the account live, i.e. may it be published to (6.1.2: implementation
-- and evaluation are the stages in which an account is in use)?
CREATE FUNCTION smam.account_is_live(stage smam.stage) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT stage OPERATOR(pg_catalog.=) ANY (ARRAY['implementation', 'evaluation']::smam.stage[]) $$;
COMMENT ON FUNCTION smam.account_is_live(smam.stage) IS
  'Stages in which an account is in use and can be published to: implementation, evaluation';

-- May the acting role work on the department's content (any departmental
-- office in it, or an administrator)?
CREATE FUNCTION smam.require_department_member(department bigint, act text)
  RETURNS void LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF department = ANY (smam.my_departments()) OR smam.holds_office(who, 'administrator', NULL) THEN
    RETURN;
  END IF;
  PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not %s', who, act),
    format('Only people holding an office in department %s use its part of the platform management tool.', department),
    'Ask an administrator to appoint you to the department, or ask one of its staff.');
END
$$;

-- ---- content library ----

CREATE SEQUENCE smam.content_item_id_seq;
CREATE TABLE smam.content_item (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.content_item_id_seq'),
  department_id    bigint NOT NULL REFERENCES smam.department (id),
  title            text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(title)) OPERATOR(pg_catalog.>) 0),
  text_en          text,
  text_fr          text,
  media_urls       text[] NOT NULL DEFAULT '{}',
  tags             text[] NOT NULL DEFAULT '{}',
  available_from   timestamptz,
  available_until  timestamptz,
  internal_note    text,
  created_by       name NOT NULL DEFAULT smam.acting_role(),
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (text_en IS NOT NULL OR text_fr IS NOT NULL),
  CHECK (available_until IS NULL OR available_from IS NULL OR available_until OPERATOR(pg_catalog.>) available_from)
);
ALTER SEQUENCE smam.content_item_id_seq OWNED BY smam.content_item.id;
CREATE INDEX content_item_department_idx ON smam.content_item (department_id);
CREATE INDEX content_item_tags_idx ON smam.content_item USING gin (tags);
COMMENT ON TABLE smam.content_item IS
  'Content library (appendix: "content libraries"): reusable texts in English and French, media, tags, availability';
COMMENT ON COLUMN smam.content_item.internal_note IS 'Internal note for the department; never published';

CREATE FUNCTION smam.add_content_item(department bigint, title text, text_en text, text_fr text,
                                      media_urls text[] DEFAULT '{}', tags text[] DEFAULT '{}',
                                      available_from timestamptz DEFAULT NULL,
                                      available_until timestamptz DEFAULT NULL,
                                      internal_note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_department_member(department, 'add to the content library');
  PERFORM smam.refuse_merged_department(department);
  IF nullif(btrim(text_en), '') IS NULL AND nullif(btrim(text_fr), '') IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'a content item needs its text in English, French or both', NULL,
      'Give text_en, text_fr or both.');
  END IF;
  IF available_until IS NOT NULL AND available_from IS NOT NULL AND available_until <= available_from THEN
    PERFORM smam.refuse('22023', NULL, 'a content item''s availability ends before it begins',
      format('Available from %s until %s.', smam.moment_text(available_from), smam.moment_text(available_until)),
      'Give an end later than the start, or no end.');
  END IF;
  INSERT INTO smam.content_item (department_id, title, text_en, text_fr, media_urls, tags,
                                 available_from, available_until, internal_note)
  VALUES (department, btrim(title), nullif(btrim(text_en), ''), nullif(btrim(text_fr), ''),
          coalesce(media_urls, '{}'), coalesce(tags, '{}'), available_from, available_until, internal_note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text) IS
  'Add an item to the department''s content library (staff of the department)';

-- ---- the approval policy of a department ----

CREATE TABLE smam.publishing_policy (
  department_id   bigint PRIMARY KEY REFERENCES smam.department (id),
  approval_tiers  integer NOT NULL CHECK (approval_tiers OPERATOR(pg_catalog.>=) 1 AND approval_tiers OPERATOR(pg_catalog.<=) 3),
  set_by          name NOT NULL DEFAULT smam.acting_role(),
  set_at          timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE smam.publishing_policy IS
  'How many approval tiers (1-3) a department''s posts need; none recorded: one tier, the head of communications';

CREATE TABLE smam.approval_tier (
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  tier           integer NOT NULL CHECK (tier OPERATOR(pg_catalog.>=) 1 AND tier OPERATOR(pg_catalog.<=) 3),
  office         smam.office,
  principal      text REFERENCES smam.principal (role_name),
  CHECK ((office IS NULL) OPERATOR(pg_catalog.<>) (principal IS NULL))
);
CREATE UNIQUE INDEX approval_tier_office_key ON smam.approval_tier (department_id, tier, office)
  WHERE office IS NOT NULL;
CREATE UNIQUE INDEX approval_tier_principal_key ON smam.approval_tier (department_id, tier, principal)
  WHERE principal IS NOT NULL;
COMMENT ON TABLE smam.approval_tier IS
  'Who may approve at each tier: holders of an office of the department, or named principals; none: head of communications';

CREATE FUNCTION smam.set_publishing_policy(department bigint, approval_tiers integer,
                                           approvers jsonb DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  t record;
  entry jsonb;
BEGIN
  IF NOT (smam.holds_office(who, 'head_of_communications', department)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not set the publishing policy of department %s', who, department),
      'The head of communications (or designate) decides how the department''s posts are approved.',
      'Ask the department''s head of communications.');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  IF approval_tiers IS NULL OR approval_tiers NOT BETWEEN 1 AND 3 THEN
    PERFORM smam.refuse('22023', NULL, format('a department''s posts need one to three approval tiers, not %s',
                                               coalesce(approval_tiers::text, 'none')),
      NULL, 'Give 1, 2 or 3.');
  END IF;
  INSERT INTO smam.publishing_policy AS p (department_id, approval_tiers) VALUES (department, approval_tiers)
  ON CONFLICT (department_id) DO UPDATE SET approval_tiers = EXCLUDED.approval_tiers,
                                            set_by = smam.acting_role(), set_at = now();
  IF approvers IS NOT NULL THEN
    -- approvers: {"1": ["department_staff"], "2": ["head_of_communications", "@jane"]}
    DELETE FROM smam.approval_tier a WHERE a.department_id = department;
    FOR t IN SELECT key, value FROM jsonb_each(approvers) LOOP
      IF t.key !~ '^[123]$' OR t.key::integer > approval_tiers THEN
        PERFORM smam.refuse('22023', NULL, format('tier "%s" is not one of the department''s %s tiers', t.key, approval_tiers),
          NULL, 'Name approvers for tiers 1 to the number of tiers.');
      END IF;
      FOR entry IN SELECT * FROM jsonb_array_elements(t.value) LOOP
        IF entry #>> '{}' LIKE '@%' THEN
          IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = substr(entry #>> '{}', 2)) THEN
            PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', substr(entry #>> '{}', 2)),
              NULL, 'Register it first with smam.register_principal().');
          END IF;
          INSERT INTO smam.approval_tier (department_id, tier, principal)
          VALUES (department, t.key::integer, substr(entry #>> '{}', 2));
        ELSE
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e WHERE e.enumtypid = 'smam.office'::regtype
                            AND e.enumlabel = entry #>> '{}') THEN
            PERFORM smam.refuse('22023', NULL, format('"%s" is not an office', entry #>> '{}'),
              NULL, 'Name an office such as department_staff or head_of_communications, or a principal as "@role".');
          END IF;
          INSERT INTO smam.approval_tier (department_id, tier, office)
          VALUES (department, t.key::integer, (entry #>> '{}')::smam.office);
        END IF;
      END LOOP;
    END LOOP;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.set_publishing_policy(bigint, integer, jsonb) IS
  'Head of communications: number of approval tiers (1-3) and, per tier, offices or "@principal"s that may approve';

-- ---- posts ----

CREATE TYPE smam.post_status AS ENUM
  ('draft', 'submitted', 'approved', 'scheduled', 'published', 'failed', 'cancelled');
COMMENT ON TYPE smam.post_status IS
  'draft -> submitted -> approved -> scheduled -> published (or failed, cancelled)';

CREATE SEQUENCE smam.post_id_seq;
CREATE TABLE smam.post (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.post_id_seq'),
  department_id    bigint NOT NULL REFERENCES smam.department (id),
  content_item_id  bigint NOT NULL REFERENCES smam.content_item (id),
  text_en          text,
  text_fr          text,
  media_urls       text[] NOT NULL DEFAULT '{}',
  publish_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  status           smam.post_status NOT NULL DEFAULT 'draft',
  version          integer NOT NULL DEFAULT 1,
  created_by       name NOT NULL DEFAULT smam.acting_role(),
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  submitted_at     timestamptz,
  approved_at      timestamptz,
  scheduled_at     timestamptz,
  settled_at       timestamptz,
  cancelled_reason text
);
ALTER SEQUENCE smam.post_id_seq OWNED BY smam.post.id;
CREATE INDEX post_department_idx ON smam.post (department_id, status);
COMMENT ON TABLE smam.post IS 'A content item addressed to live accounts of the department, at a time, through the approval workflow';
COMMENT ON COLUMN smam.post.version IS 'Raised by every edit after submission; approvals count for the version they approved';

CREATE TABLE smam.post_target (
  post_id     bigint NOT NULL REFERENCES smam.post (id),
  account_id  bigint NOT NULL REFERENCES smam.account (id),
  PRIMARY KEY (post_id, account_id)
);
COMMENT ON TABLE smam.post_target IS 'The accounts a post is addressed to';

CREATE SEQUENCE smam.post_approval_id_seq;
CREATE TABLE smam.post_approval (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.post_approval_id_seq'),
  post_id        bigint NOT NULL REFERENCES smam.post (id),
  post_version   integer NOT NULL,
  tier           integer NOT NULL,
  approved_by    name NOT NULL DEFAULT smam.acting_role(),
  approved_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  voided_at      timestamptz,
  voided_reason  text
);
ALTER SEQUENCE smam.post_approval_id_seq OWNED BY smam.post_approval.id;
CREATE INDEX post_approval_post_idx ON smam.post_approval (post_id);
COMMENT ON TABLE smam.post_approval IS 'Approvals of a post, tier by tier; an edit voids them (voided_at, voided_reason)';

-- How many tiers the department's posts need.
CREATE FUNCTION smam.approval_tiers(department bigint) RETURNS integer
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT coalesce((SELECT p.approval_tiers FROM smam.publishing_policy p WHERE p.department_id = department), 1) $$;

-- May the role approve the department's posts at the tier?
CREATE FUNCTION smam.may_approve(role name, department bigint, tier integer) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM smam.approval_tier t
                                   WHERE t.department_id = department AND t.tier = may_approve.tier)
                THEN smam.holds_office(role, 'head_of_communications', department)
                ELSE EXISTS (SELECT 1 FROM smam.approval_tier t
                              WHERE t.department_id = department AND t.tier = may_approve.tier
                                AND (t.principal = role::text
                                     OR (t.office IS NOT NULL AND smam.holds_office(role, t.office, department))))
           END
  $$;

CREATE FUNCTION smam.void_approvals(post bigint, reason text) RETURNS integer
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH v AS (UPDATE smam.post_approval a SET voided_at = now(), voided_reason = reason
                WHERE a.post_id = post AND a.voided_at IS NULL RETURNING 1)
    SELECT count(*)::integer FROM v
  $$;

-- Editing a post after submission voids its approvals, cancels what was
-- scheduled and sends it back for approval; once anything is out, it is
-- too late to edit.
CREATE FUNCTION smam.post_edit_guard() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NEW.text_en IS NOT DISTINCT FROM OLD.text_en AND NEW.text_fr IS NOT DISTINCT FROM OLD.text_fr
     AND NEW.media_urls IS NOT DISTINCT FROM OLD.media_urls AND NEW.publish_at = OLD.publish_at THEN
    RETURN NEW;
  END IF;
  IF OLD.status IN ('published', 'failed', 'cancelled')
     OR EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id = OLD.id
                  AND d.status IN ('sending', 'delivered', 'dead')) THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s can no longer be edited', OLD.id),
      format('The post is %s; what was published stays as it was approved.', OLD.status),
      'Make a new post from the content item.');
  END IF;
  IF OLD.status IN ('submitted', 'approved', 'scheduled') THEN
    PERFORM smam.void_approvals(OLD.id, format('post edited by %s after submission', smam.acting_role()));
    UPDATE smam.delivery d SET status = 'cancelled', cancelled_reason = 'the post was edited; its approvals were voided',
                               settled_at = now()
     WHERE d.post_id = OLD.id AND d.status = 'pending';
    NEW.version := OLD.version + 1;
    NEW.status := 'submitted';
    NEW.approved_at := NULL;
    NEW.scheduled_at := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION smam.create_post(content_item bigint, accounts bigint[],
                                 publish_at timestamptz DEFAULT pg_catalog.now())
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  item smam.content_item;
  bad record;
  new_id bigint;
BEGIN
  SELECT * INTO item FROM smam.content_item c WHERE c.id = content_item;
  PERFORM smam.require_visible('content item', content_item, item.department_id);
  PERFORM smam.require_department_member(item.department_id, 'write posts');
  IF accounts IS NULL OR cardinality(accounts) = 0 THEN
    PERFORM smam.refuse('22023', NULL, 'a post needs at least one account', NULL,
      'Name the accounts of the department to publish to.');
  END IF;
  SELECT x.id, a.id AS known, a.department_id, a.stage INTO bad
    FROM unnest(accounts) x(id) LEFT JOIN smam.account a ON a.id = x.id
   WHERE a.id IS NULL OR a.department_id <> item.department_id OR NOT smam.account_is_live(a.stage)
   LIMIT 1;
  IF FOUND THEN
    IF bad.known IS NULL OR bad.department_id <> item.department_id THEN
      PERFORM smam.refuse('23503', '6.1.4', format('account %s is not an account of department %s', bad.id, item.department_id),
        NULL, 'Address posts to the department''s own accounts.');
    END IF;
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is not live', bad.id),
      format('It is in the %s stage; only accounts in implementation or evaluation are published to.', bad.stage),
      'Choose accounts in use.');
  END IF;
  INSERT INTO smam.post (department_id, content_item_id, text_en, text_fr, media_urls, publish_at)
  VALUES (item.department_id, item.id, item.text_en, item.text_fr, item.media_urls, coalesce(publish_at, now()))
  RETURNING id INTO new_id;
  INSERT INTO smam.post_target (post_id, account_id) SELECT DISTINCT new_id, x FROM unnest(accounts) x;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.create_post(bigint, bigint[], timestamptz) IS
  'A draft post of a content item to live accounts of its department, at a time';

CREATE FUNCTION smam.edit_post(post bigint, text_en text DEFAULT NULL, text_fr text DEFAULT NULL,
                               publish_at timestamptz DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'edit posts');
  UPDATE smam.post x
     SET text_en = CASE WHEN edit_post.text_en IS NULL THEN x.text_en ELSE nullif(btrim(edit_post.text_en), '') END,
         text_fr = CASE WHEN edit_post.text_fr IS NULL THEN x.text_fr ELSE nullif(btrim(edit_post.text_fr), '') END,
         publish_at = coalesce(edit_post.publish_at, x.publish_at)
   WHERE x.id = post;
END
$$;
COMMENT ON FUNCTION smam.edit_post(bigint, text, text, timestamptz) IS
  'Edit a post''s texts or time; after submission this voids its approvals and sends it back for approval';

CREATE FUNCTION smam.submit_post(post bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'submit posts');
  IF p.status <> 'draft' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not a draft', post, p.status), NULL,
      'Only a draft is submitted for approval.');
  END IF;
  UPDATE smam.post x SET status = 'submitted', submitted_at = now() WHERE x.id = post;
END
$$;

CREATE FUNCTION smam.approve_post(post bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  p smam.post;
  tiers integer;
  next_tier integer;
  dept bigint := (SELECT x.department_id FROM smam.post x WHERE x.id = post);
BEGIN
  -- The department's own offices see its posts; so does a principal its
  -- publishing policy names as an approver.
  IF NOT EXISTS (SELECT 1 FROM smam.approval_tier t WHERE t.department_id = dept AND t.principal = who::text) THEN
    PERFORM smam.require_visible('post', post, dept);
  END IF;
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  IF p.status <> 'submitted' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not awaiting approval', post, p.status), NULL,
      CASE WHEN p.status = 'draft' THEN 'Submit it first with smam.submit_post().' ELSE NULL END);
  END IF;
  IF p.created_by = who THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not approve their own post', who),
      'Nobody approves their own post: approval is a second pair of eyes.',
      'Ask an approver of the department.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.post_approval a WHERE a.post_id = post AND a.voided_at IS NULL
               AND a.approved_by = who) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" has already approved post %s', who, post),
      'Each tier is approved by a different person.', 'Ask an approver of the next tier.');
  END IF;
  tiers := smam.approval_tiers(p.department_id);
  next_tier := 1 + (SELECT count(*) FROM smam.post_approval a WHERE a.post_id = post AND a.voided_at IS NULL);
  IF NOT smam.may_approve(who, p.department_id, next_tier) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not approve tier %s of the posts of department %s', who, next_tier, p.department_id),
      format('The department''s posts need %s approval tier(s); tier %s is approved by %s.', tiers, next_tier,
             coalesce((SELECT string_agg(coalesce(t.office::text, '@' || t.principal), ', ' ORDER BY t.office, t.principal)
                         FROM smam.approval_tier t WHERE t.department_id = p.department_id AND t.tier = next_tier),
                      'the head of communications')),
      'Ask an approver of that tier.');
  END IF;
  INSERT INTO smam.post_approval (post_id, post_version, tier) VALUES (post, p.version, next_tier);
  IF next_tier >= tiers THEN
    UPDATE smam.post x SET status = 'approved', approved_at = now() WHERE x.id = post;
  END IF;
  RETURN next_tier;
END
$$;
COMMENT ON FUNCTION smam.approve_post(bigint) IS
  'Approve the next tier of a submitted post (never one''s own; one tier per person); returns the tier approved';

-- The official-language rule: what a post lacks for each of its accounts.
CREATE FUNCTION smam.post_language_gaps(post bigint)
  RETURNS TABLE (account_id bigint, official_language smam.official_language, missing text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT a.id, a.official_language,
           concat_ws(' and ',
             CASE WHEN a.official_language IN ('english', 'bilingual') AND nullif(btrim(p.text_en), '') IS NULL THEN 'English' END,
             CASE WHEN a.official_language IN ('french', 'bilingual') AND nullif(btrim(p.text_fr), '') IS NULL THEN 'French' END)
      FROM smam.post p
      JOIN smam.post_target t ON t.post_id = p.id
      JOIN smam.account a ON a.id = t.account_id
     WHERE p.id = post
       AND ((a.official_language IN ('english', 'bilingual') AND nullif(btrim(p.text_en), '') IS NULL)
         OR (a.official_language IN ('french', 'bilingual') AND nullif(btrim(p.text_fr), '') IS NULL))
  $$;
COMMENT ON FUNCTION smam.post_language_gaps(bigint) IS
  'Accounts of a post whose official language(s) the post''s text does not cover';

CREATE FUNCTION smam.cancel_post(post bigint, reason text) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
  n integer;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'cancel posts');
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', NULL, 'cancelling a post needs a reason', NULL, 'Say why, for the record.');
  END IF;
  IF p.status IN ('published', 'failed', 'cancelled') THEN
    PERFORM smam.refuse('55000', NULL, format('post %s is already %s', post, p.status), NULL, NULL);
  END IF;
  WITH c AS (UPDATE smam.delivery d SET status = 'cancelled', cancelled_reason = btrim(reason), settled_at = now()
              WHERE d.post_id = post AND d.status = 'pending' RETURNING 1)
  SELECT count(*) INTO n FROM c;
  UPDATE smam.post x SET status = 'cancelled', cancelled_reason = btrim(reason), settled_at = now()
   WHERE x.id = post AND NOT EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id = post AND d.status = 'sending');
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.cancel_post(bigint, text) IS
  'Cancel a post and its pending deliveries, with the reason; returns the deliveries cancelled';
