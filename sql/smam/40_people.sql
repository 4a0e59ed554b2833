-- People and offices. A principal is a PostgreSQL role known to smam; an
-- appointment gives a principal an office, for a department or for the
-- whole government, over a term. smam.holds_office() reads them.

CREATE TABLE smam.principal (
  role_name      text PRIMARY KEY,
  display_name   text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(display_name)) OPERATOR(pg_catalog.>) 0),
  email          text NOT NULL CHECK (email OPERATOR(pg_catalog.~) E'^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$'),
  department_id  bigint REFERENCES smam.department (id),
  active         boolean NOT NULL DEFAULT true,
  registered_by  name NOT NULL DEFAULT smam.acting_role(),
  registered_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX principal_email_key ON smam.principal (pg_catalog.lower(email));
COMMENT ON TABLE smam.principal IS 'PostgreSQL roles known to smam, with name, e-mail and home department';
COMMENT ON COLUMN smam.principal.active IS 'An inactive principal holds no office, whatever the appointments say';

CREATE SEQUENCE smam.appointment_id_seq;
CREATE TABLE smam.appointment (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.appointment_id_seq'),
  principal      text NOT NULL REFERENCES smam.principal (role_name),
  office         smam.office NOT NULL,
  department_id  bigint REFERENCES smam.department (id),
  valid_from     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  valid_until    timestamptz,
  delegated_by   bigint REFERENCES smam.appointment (id),
  note           text,
  appointed_by   name NOT NULL DEFAULT smam.acting_role(),
  appointed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  ended_by       name,
  ended_reason   text,
  CHECK (valid_until IS NULL OR valid_until OPERATOR(pg_catalog.>) valid_from)
);
ALTER SEQUENCE smam.appointment_id_seq OWNED BY smam.appointment.id;
CREATE INDEX appointment_principal_idx ON smam.appointment (principal, valid_from);
CREATE INDEX appointment_department_idx ON smam.appointment (department_id, office);
CREATE INDEX appointment_delegated_by_idx ON smam.appointment (delegated_by);
COMMENT ON TABLE smam.appointment IS 'Offices held by principals over a term [valid_from, valid_until)';
COMMENT ON COLUMN smam.appointment.delegated_by IS 'For a designate: the head of communications'' appointment that delegates';

CREATE FUNCTION smam.appointment_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_appointment_guard';
COMMENT ON FUNCTION smam.appointment_guard() IS
  'Trigger: offices held for the right scope, designations within the delegator''s term, no overlaps';
CREATE TRIGGER appointment_guard BEFORE INSERT OR UPDATE ON smam.appointment
  FOR EACH ROW EXECUTE FUNCTION smam.appointment_guard();

-- Register a role as a principal (administrator).
CREATE FUNCTION smam.register_principal(role name, display_name text, email text,
                                        department bigint DEFAULT NULL)
  RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'register a principal');
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" does not exist', role),
      'A principal is a PostgreSQL role known to smam.',
      format('Create the role first: CREATE ROLE %I LOGIN;', role));
  END IF;
  IF EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = role) THEN
    PERFORM smam.refuse('23505', NULL, format('role "%s" is already a principal', role), NULL,
      'Update the existing principal instead.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.principal p WHERE lower(p.email) = lower(register_principal.email)) THEN
    PERFORM smam.refuse('23505', NULL, format('e-mail address "%s" belongs to another principal', email), NULL,
      'Each principal has an e-mail address of their own.');
  END IF;
  IF email IS NULL OR email !~ E'^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$' THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not an e-mail address', email), NULL,
      'Give an address such as jane.doe@canada.ca.');
  END IF;
  IF department IS NOT NULL AND NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or add it with smam.add_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  INSERT INTO smam.principal (role_name, display_name, email, department_id)
  VALUES (role, btrim(display_name), btrim(email), department);
  RETURN role;
END
$$;
COMMENT ON FUNCTION smam.register_principal(name, text, text, bigint) IS
  'Make an existing PostgreSQL role known to smam as a principal (administrator)';

-- Appoint a principal to an office (administrator).
CREATE FUNCTION smam.appoint(role name, office smam.office, department bigint DEFAULT NULL,
                             valid_from timestamptz DEFAULT pg_catalog.now(),
                             valid_until timestamptz DEFAULT NULL, note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'appoint to an office');
  IF office = 'designate' THEN
    PERFORM smam.refuse('22023', '6.1', 'a designate is delegated, not appointed',
      'Section 6.1 gives designates the responsibilities of the head of communications who delegates to them.',
      'The head of communications delegates with smam.delegate().');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = role) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', role), NULL,
      'Register it first with smam.register_principal().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until, note)
  VALUES (role, office, department, coalesce(valid_from, now()), valid_until, note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text) IS
  'Appoint a principal to an office for a department or government-wide over a term (administrator)';

-- A head of communications delegates to a designate, within their own term.
CREATE FUNCTION smam.delegate(designate name, valid_until timestamptz,
                              department bigint DEFAULT NULL,
                              valid_from timestamptz DEFAULT pg_catalog.now(), note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  head smam.appointment;
  new_id bigint;
BEGIN
  SELECT a.* INTO head FROM smam.appointment a
   WHERE a.principal = who AND a.office = 'head_of_communications'
     AND (department IS NULL OR a.department_id = department)
     AND a.valid_from <= now() AND (a.valid_until IS NULL OR a.valid_until > now())
   ORDER BY a.valid_from DESC LIMIT 1;
  IF NOT FOUND OR NOT smam.holds_office(who, 'head_of_communications', head.department_id) THEN
    PERFORM smam.refuse('42501', '6.1', format('role "%s" may not delegate', who),
      'Only a head of communications in office delegates to a designate; a designate does not delegate further.',
      'Ask the department''s head of communications to delegate.');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = designate) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', designate), NULL,
      'Ask an administrator to register it with smam.register_principal().');
  END IF;
  PERFORM smam.refuse_merged_department(head.department_id);
  INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until,
                                delegated_by, note)
  VALUES (designate, 'designate', head.department_id, coalesce(valid_from, now()), valid_until,
          head.id, note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.delegate(name, timestamptz, bigint, timestamptz, text) IS
  'The acting head of communications delegates to a designate, never beyond their own term (6.1)';

-- End an appointment early. Designations made by an ending head of
-- communications end with it.
CREATE FUNCTION smam.end_appointment(appointment bigint, reason text,
                                     at timestamptz DEFAULT pg_catalog.now())
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.appointment;
  who name := smam.acting_role();
BEGIN
  SELECT * INTO a FROM smam.appointment x WHERE x.id = appointment;
  IF NOT FOUND OR NOT (a.principal = who OR smam.sees_all()
                       OR coalesce(a.department_id = ANY (smam.my_departments()), false)
                       OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = who), false)) THEN
    PERFORM smam.refuse('42704', NULL, format('appointment %s does not exist or is not visible to you', appointment),
      'Appointments are visible to their holder, to the holders of offices in their department and of government-wide offices.',
      'List the appointments you see in smam.appointment.');
  END IF;
  SELECT * INTO a FROM smam.appointment x WHERE x.id = appointment FOR UPDATE;
  IF NOT (smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)
          OR (a.office = 'designate' AND EXISTS (
                SELECT 1 FROM smam.appointment d WHERE d.id = a.delegated_by AND d.principal = who))) THEN
    PERFORM smam.refuse('42501', NULL, format('role "%s" may not end appointment %s', who, appointment),
      'An administrator ends appointments; a head of communications ends the designations they made.',
      'Ask an administrator of smam.');
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', NULL, 'ending an appointment needs a reason', NULL,
      'Say why the appointment ends, for the record.');
  END IF;
  IF at <= a.valid_from THEN
    PERFORM smam.refuse('22023', NULL, format('appointment %s cannot end before it begins', appointment),
      format('It begins %s.', smam.moment_text(a.valid_from)), 'Give an end after its start.');
  END IF;
  IF a.valid_until IS NOT NULL AND a.valid_until <= at THEN
    PERFORM smam.refuse('55000', NULL, format('appointment %s has already ended', appointment),
      format('It ended %s.', smam.moment_text(a.valid_until)), NULL);
  END IF;
  -- Designations first, so that none outlasts the delegator's new term.
  UPDATE smam.appointment d
     SET valid_until = greatest(at, d.valid_from + interval '1 microsecond'),
         ended_by = who, ended_reason = format('delegator''s appointment %s ended: %s', a.id, reason)
   WHERE d.delegated_by = a.id AND (d.valid_until IS NULL OR d.valid_until > at);
  UPDATE smam.appointment x SET valid_until = at, ended_by = who, ended_reason = reason
   WHERE x.id = a.id;
END
$$;
COMMENT ON FUNCTION smam.end_appointment(bigint, text, timestamptz) IS
  'End an appointment at a moment with a reason; its designations end with it';

-- Who holds which office now.
CREATE VIEW smam.office_holder WITH (security_invoker = true) AS
  SELECT a.id AS appointment, a.principal, p.display_name, p.email, a.office,
         a.department_id, d.name_en AS department_en, d.name_fr AS department_fr,
         a.valid_from, a.valid_until, a.delegated_by,
         smam.moment_text(a.valid_from) AS valid_from_text, smam.moment_text(a.valid_until) AS valid_until_text
    FROM smam.appointment a
    JOIN smam.principal p ON p.role_name OPERATOR(pg_catalog.=) a.principal
    LEFT JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) a.department_id
   WHERE p.active
     AND a.valid_from OPERATOR(pg_catalog.<=) pg_catalog.now()
     AND (a.valid_until IS NULL OR a.valid_until OPERATOR(pg_catalog.>) pg_catalog.now())
     AND smam.holds_office(a.principal::name, a.office, a.department_id);
COMMENT ON VIEW smam.office_holder IS 'Offices held now (designates only while their delegator is in office)';
COMMENT ON COLUMN smam.office_holder.valid_from_text IS
  'When the term began, written in smam.time_zone as refusals write moments (valid_from is shown in the session''s time zone)';
COMMENT ON COLUMN smam.office_holder.valid_until_text IS
  'When the term ends (NULL: open), written in smam.time_zone as refusals write moments';

ALTER TABLE smam.principal ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.appointment ENABLE ROW LEVEL SECURITY;
CREATE POLICY principal_read ON smam.principal FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (role_name OPERATOR(pg_catalog.=) (SELECT smam.acting_role())::text
         OR (SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY appointment_read ON smam.appointment FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (principal OPERATOR(pg_catalog.=) (SELECT smam.acting_role())::text
         OR (SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.principal, smam.appointment, smam.office_holder
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.register_principal(name, text, text, bigint),
  smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text) TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.end_appointment(bigint, text, timestamptz) TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION smam.delegate(name, timestamptz, bigint, timestamptz, text) TO smam_department;
GRANT EXECUTE ON FUNCTION smam.holds_office(name, smam.office, bigint, timestamptz),
  smam.my_departments(timestamptz), smam.sees_all(timestamptz), smam.acting_role(),
  smam.require_office(smam.office, bigint, text, text), smam.refuse(text, text, text, text, text),
  smam.lapsed_office(name, smam.office, bigint, timestamptz),
  smam.time_zone(), smam.today(timestamptz), smam.moment_text(timestamptz), smam.date_text(date),
  smam.interval_text(interval)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.principal', '');
SELECT pg_catalog.pg_extension_config_dump('smam.appointment', '');
SELECT pg_catalog.pg_extension_config_dump('smam.appointment_id_seq', '');
