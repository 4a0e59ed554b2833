/*
 * offices.c: who holds which office, for which department, at what time.
 *
 * Every rule of smam asks one question: "does this role hold office X for
 * department D at time T?". smam.holds_office() answers it from
 * smam.appointment by direct index scans. A designate holds
 * the office of head of communications of the department that delegated to
 * them, within the delegation and only while the delegator's own term runs
 * (section 6.1 of the Standard: "heads of communications or designates").
 *
 * The appointment trigger keeps appointments coherent: an office is held
 * for a department or for the whole government as its nature requires, a
 * designation never outlasts the delegator's term, and nobody holds the same
 * office twice over the same period.
 */
#include "smam.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(smam_holds_office);
PG_FUNCTION_INFO_V1(smam_acting_role_sql);
PG_FUNCTION_INFO_V1(smam_my_departments);
PG_FUNCTION_INFO_V1(smam_sees_all);
PG_FUNCTION_INFO_V1(smam_appointment_guard);

/*
 * The offices a role holds at a time are read straight from the indexes of
 * smam.appointment and smam.principal, with no SQL, no plan and no executor:
 * this question is asked by every rule and every row-level security policy,
 * so it must cost little more than a few index probes. The scans use the
 * active snapshot and ignore row-level security, like the referential
 * integrity checks of PostgreSQL itself.
 */
typedef struct HeldOffice
{
	char office[NAMEDATALEN];
	bool dept_null;
	int64 dept;
} HeldOffice;

typedef struct OfficeRels
{
	Oid appointment;
	Oid appointment_by_principal;
	Oid appointment_pkey;
	Oid principal;
	Oid principal_pkey;
} OfficeRels;

static Oid
smam_relid(Oid nsp, const char *name)
{
	Oid relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation smam.%s does not exist", name);
	return relid;
}

static void
lookup_office_rels(OfficeRels *rels)
{
	Oid nsp = get_namespace_oid("smam", false);

	rels->appointment = smam_relid(nsp, "appointment");
	rels->appointment_by_principal = smam_relid(nsp, "appointment_principal_idx");
	rels->appointment_pkey = smam_relid(nsp, "appointment_pkey");
	rels->principal = smam_relid(nsp, "principal");
	rels->principal_pkey = smam_relid(nsp, "principal_pkey");
}

/*
 * The scans read smam.appointment's columns by number: principal 2, office
 * 3, department_id 4, valid_from 5, valid_until 6, delegated_by 7. Check
 * once per session that the table still has them there.
 */
static void
check_appointment_columns(Relation rel)
{
	static bool checked = false;
	static const char *const names[] = {"id",		  "principal",	 "office",		"department_id",
										"valid_from", "valid_until", "delegated_by"};

	if (checked)
		return;
	for (int i = 0; i < lengthof(names); i++)
		if (attnameAttNum(rel, names[i], false) != i + 1)
			elog(ERROR, "smam.appointment has column \"%s\" out of place", names[i]);
	checked = true;
}

static Snapshot
current_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

static bool
term_covers(HeapTuple tup, TupleDesc desc, TimestampTz at)
{
	bool isnull;
	TimestampTz from = DatumGetTimestampTz(heap_getattr(tup, 5, desc, &isnull));
	Datum until = heap_getattr(tup, 6, desc, &isnull);

	return from <= at && (isnull || DatumGetTimestampTz(until) > at);
}

/* Is the principal registered and active? */
static bool
principal_active(OfficeRels *rels, text *role, Snapshot snap)
{
	Relation rel = table_open(rels->principal, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple tup;
	bool active = false;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(role));
	scan = systable_beginscan(rel, rels->principal_pkey, true, snap, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool isnull;
		int attno = attnameAttNum(rel, "active", false);
		Datum d = heap_getattr(tup, attno, RelationGetDescr(rel), &isnull);

		active = !isnull && DatumGetBool(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return active;
}

/* Is the delegating appointment in force at the time? */
static bool
delegator_in_force(OfficeRels *rels, Relation rel, int64 id, TimestampTz at, Snapshot snap)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple tup;
	bool ok = false;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	scan = systable_beginscan(rel, rels->appointment_pkey, true, snap, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		ok = term_covers(tup, RelationGetDescr(rel), at);
	systable_endscan(scan);
	return ok;
}

/*
 * The offices the role holds at the time: its appointments in force, for an
 * active principal, a designate's only while the delegator's term runs too.
 * Returns how many, in *held (palloc'd).
 */
static int
offices_in_force(const char *role, TimestampTz at, HeldOffice **held)
{
	OfficeRels rels;
	Snapshot snap = current_snapshot();
	text *role_text = cstring_to_text(role);
	Relation rel;
	TupleDesc desc;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple tup;
	int n = 0, cap = 4;

	lookup_office_rels(&rels);
	*held = palloc(sizeof(HeldOffice) * cap);
	if (!principal_active(&rels, role_text, snap))
		return 0;

	rel = table_open(rels.appointment, AccessShareLock);
	desc = RelationGetDescr(rel);
	check_appointment_columns(rel);
	/* systable scan keys name heap columns: principal is column 2 */
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(role_text));
	scan = systable_beginscan(rel, rels.appointment_by_principal, true, snap, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool isnull;
		Datum d;

		if (!term_covers(tup, desc, at))
			continue;
		d = heap_getattr(tup, 7, desc, &isnull); /* delegated_by */
		if (!isnull && !delegator_in_force(&rels, rel, DatumGetInt64(d), at, snap))
			continue;
		if (n == cap)
		{
			cap *= 2;
			*held = repalloc(*held, sizeof(HeldOffice) * cap);
		}
		d = heap_getattr(tup, 3, desc, &isnull); /* office */
		strlcpy((*held)[n].office, DatumGetCString(DirectFunctionCall1(enum_out, d)), NAMEDATALEN);
		d = heap_getattr(tup, 4, desc, &isnull); /* department_id */
		(*held)[n].dept_null = isnull;
		(*held)[n].dept = isnull ? 0 : DatumGetInt64(d);
		n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return n;
}

Oid
smam_acting_role(void)
{
	Oid outer = GetOuterUserId();
	Oid current;

	/*
	 * The outer user is the role set by login or SET ROLE; unlike
	 * current_user it does not change inside SECURITY DEFINER functions, so
	 * smam's own functions see who is really acting.
	 */
	if (!InSecurityRestrictedOperation() || smam_own_restricted_operation)
		return outer;

	/*
	 * A security-restricted operation (ANALYZE, VACUUM, CLUSTER, REINDEX,
	 * CREATE INDEX, REFRESH MATERIALIZED VIEW, by autovacuum or a superuser)
	 * runs an object's code (an index expression, a materialized view's
	 * query) as the object's owner, while the outer user is whoever started
	 * the operation, often a superuser: acting as that one would show the
	 * owner's code every department's rows (smam's own restricted queries,
	 * privileged.c, are not such code: there the outer user acts, as
	 * outside). smam acts as the owner (the
	 * current user). When the current user is a superuser, it may be smam's
	 * own SECURITY DEFINER function called from such code (its owner is a
	 * superuser, often the very one autovacuum runs as), and whose code
	 * called it is no longer known: smam then acts as the outer user if that
	 * one is no superuser (an analyst refreshing its own materialized view),
	 * and refuses otherwise rather than guess. smam's own objects run no code
	 * of smam in such operations (no index expression of theirs calls it).
	 */
	current = GetUserId();
	if (!superuser_arg(current))
		return current;
	if (!superuser_arg(outer))
		return outer;
	smam_refuse(
		ERRCODE_INSUFFICIENT_PRIVILEGE, NULL,
		"smam cannot tell who acts inside this security-restricted operation",
		smam_format(
			"Role %s started an operation (ANALYZE, VACUUM, CLUSTER, REINDEX, CREATE INDEX or "
			"REFRESH MATERIALIZED VIEW) that runs an object's code as the object's owner, and "
			"smam was called there with a superuser's rights (a function of smam that runs "
			"with raised rights, or an object a superuser owns): whose code it is cannot be told.",
			GetUserNameFromId(outer, false)),
		"Let the object's owner run the operation itself (REFRESH MATERIALIZED VIEW as its owner), "
		"and let a role that is not a superuser own objects whose code reads smam.");
	pg_unreachable();
}

static bool
office_is_departmental(const char *office)
{
	return strcmp(office, "head_of_communications") == 0 || strcmp(office, "designate") == 0 ||
		   strcmp(office, "deputy_head") == 0 || strcmp(office, "department_staff") == 0;
}

/*
 * Does the role hold the office for the department at the time? A NULL
 * department asks about a government-wide office (entity, TBS,
 * administrator). Asking for head_of_communications is answered yes for a
 * designate of that department whose delegator is in force too.
 */
static bool
holds_office(const char *role, const char *office, bool dept_null, int64 dept, TimestampTz at)
{
	HeldOffice *held;
	int n;
	bool accept_designate = strcmp(office, "head_of_communications") == 0;

	if (office_is_departmental(office) == dept_null)
		return false;
	n = offices_in_force(role, at, &held);
	for (int i = 0; i < n; i++)
	{
		if (!(strcmp(held[i].office, office) == 0 ||
			  (accept_designate && strcmp(held[i].office, "designate") == 0)))
			continue;
		if (dept_null ? held[i].dept_null : (!held[i].dept_null && held[i].dept == dept))
			return true;
	}
	return false;
}

/*
 * May the acting role ask whether another role holds an office of the
 * department? The answer says what smam.appointment holds, so it is given
 * where the appointment would be visible through its row-level security:
 * about oneself, to a holder of a government-wide office, about one's own
 * departments; and to smam's own code (running as the owner of its tables
 * inside its SECURITY DEFINER functions) and superusers. Anyone else is
 * refused, before anything is read.
 */
static void
check_may_ask(const char *role, bool dept_null, int64 dept)
{
	char *who;
	HeldOffice *held;
	int n;

	/* superuser() answers for the current user: the owner inside smam's functions */
	if (superuser())
		return;
	who = GetUserNameFromId(smam_acting_role(), false);
	if (strcmp(role, who) == 0 || GetUserId() == smam_owner())
		return;
	n = offices_in_force(who, GetCurrentTransactionStartTimestamp(), &held);
	for (int i = 0; i < n; i++)
		if (!office_is_departmental(held[i].office) ||
			(!dept_null && !held[i].dept_null && held[i].dept == dept))
			return;
	smam_refuse(
		ERRCODE_INSUFFICIENT_PRIVILEGE, NULL,
		smam_format("role \"%s\" may not ask who holds offices %s", who,
					dept_null ? "of the whole government"
							  : smam_format("of department %lld", (long long) dept)),
		"The offices of a department are visible to its own office holders and to the holders of "
		"government-wide offices (entity, TBS, administrator), as smam.appointment is.",
		"Ask about your own offices, or about a department in which you hold an office.");
}

/*
 * smam.holds_office(role name, office smam.office, department bigint,
 *                   at timestamptz DEFAULT now()) RETURNS boolean
 */
Datum
smam_holds_office(PG_FUNCTION_ARGS)
{
	Oid office_type;
	Oid outfunc;
	bool isvarlena;
	char *office;
	TimestampTz at;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	office_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	if (!OidIsValid(office_type))
		elog(ERROR, "could not determine the type of the office argument");
	getTypeOutputInfo(office_type, &outfunc, &isvarlena);
	office = OidOutputFunctionCall(outfunc, PG_GETARG_DATUM(1));
	at = PG_ARGISNULL(3) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(3);
	check_may_ask(NameStr(*PG_GETARG_NAME(0)), PG_ARGISNULL(2),
				  PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2));

	PG_RETURN_BOOL(holds_office(NameStr(*PG_GETARG_NAME(0)), office, PG_ARGISNULL(2),
								PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2), at));
}

/* smam.acting_role() RETURNS name */
Datum
smam_acting_role_sql(PG_FUNCTION_ARGS)
{
	Name result = (Name) palloc0(NAMEDATALEN);

	namestrcpy(result, GetUserNameFromId(smam_acting_role(), false));
	PG_RETURN_NAME(result);
}

/*
 * smam.my_departments(at timestamptz DEFAULT now()) RETURNS bigint[]:
 * the departments in which the acting role holds any office at the time.
 * Row-level security policies compare a row's department against it.
 */
Datum
smam_my_departments(PG_FUNCTION_ARGS)
{
	TimestampTz at =
		PG_ARGISNULL(0) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(0);
	HeldOffice *held;
	int n = offices_in_force(GetUserNameFromId(smam_acting_role(), false), at, &held);
	Datum *depts = palloc(sizeof(Datum) * (n + 1));
	int k = 0;

	for (int i = 0; i < n; i++)
		if (!held[i].dept_null)
			depts[k++] = Int64GetDatum(held[i].dept);
	PG_RETURN_ARRAYTYPE_P(
		construct_array(depts, k, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * smam.sees_all(at timestamptz DEFAULT now()) RETURNS boolean: the acting
 * role holds a government-wide office (entity, TBS, administrator), whose
 * holders see the rows of every department.
 */
Datum
smam_sees_all(PG_FUNCTION_ARGS)
{
	TimestampTz at =
		PG_ARGISNULL(0) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(0);
	HeldOffice *held;
	int n = offices_in_force(GetUserNameFromId(smam_acting_role(), false), at, &held);

	for (int i = 0; i < n; i++)
		if (!office_is_departmental(held[i].office))
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/* ---- the appointment trigger ---- */

static char *
tuple_text(HeapTuple tup, TupleDesc desc, const char *column, bool *isnull)
{
	int attno = SPI_fnumber(desc, column);

	if (attno <= 0)
		elog(ERROR, "smam.appointment has no column \"%s\"", column);
	*isnull = false;
	{
		char *val = SPI_getvalue(tup, desc, attno);

		*isnull = (val == NULL);
		return val;
	}
}

static Datum
tuple_datum(HeapTuple tup, TupleDesc desc, const char *column, bool *isnull)
{
	int attno = SPI_fnumber(desc, column);

	if (attno <= 0)
		elog(ERROR, "smam.appointment has no column \"%s\"", column);
	return SPI_getbinval(tup, desc, attno, isnull);
}

/*
 * BEFORE INSERT OR UPDATE trigger on smam.appointment.
 */
Datum
smam_appointment_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc desc;
	HeapTuple newtup;
	HeapTuple oldtup = NULL;
	bool isnull, dept_null, until_null, delegated_null;
	char *principal, *office;
	int64 dept = 0;
	TimestampTz from, until = 0;
	int64 delegated_by = 0;
	int64 id;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_appointment_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "smam_appointment_guard: must be fired before, for each row");
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "smam_appointment_guard: must not be fired on DELETE");

	desc = trigdata->tg_relation->rd_att;
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		oldtup = trigdata->tg_trigtuple;
		newtup = trigdata->tg_newtuple;
	}
	else
		newtup = trigdata->tg_trigtuple;

	/*
	 * A row without its holder, office, id or start is never stored: its NOT
	 * NULL constraints, checked after this trigger, refuse it (23502).
	 */
	principal = tuple_text(newtup, desc, "principal", &isnull);
	if (isnull)
		return PointerGetDatum(newtup);
	office = tuple_text(newtup, desc, "office", &isnull);
	if (isnull)
		return PointerGetDatum(newtup);
	id = DatumGetInt64(tuple_datum(newtup, desc, "id", &isnull));
	if (isnull)
		return PointerGetDatum(newtup);
	(void) tuple_datum(newtup, desc, "valid_from", &isnull);
	if (isnull)
		return PointerGetDatum(newtup);
	{
		Datum d = tuple_datum(newtup, desc, "department_id", &dept_null);

		if (!dept_null)
			dept = DatumGetInt64(d);
	}
	from = DatumGetTimestampTz(tuple_datum(newtup, desc, "valid_from", &isnull));
	{
		Datum d = tuple_datum(newtup, desc, "valid_until", &until_null);

		if (!until_null)
			until = DatumGetTimestampTz(d);
	}
	{
		Datum d = tuple_datum(newtup, desc, "delegated_by", &delegated_null);

		if (!delegated_null)
			delegated_by = DatumGetInt64(d);
	}

	/* What an appointment is never changes; only its term may. */
	if (oldtup != NULL)
	{
		bool n1, n2;
		char *old_principal = tuple_text(oldtup, desc, "principal", &n1);
		char *old_office = tuple_text(oldtup, desc, "office", &n1);
		char *old_dept = tuple_text(oldtup, desc, "department_id", &n1);
		char *new_dept = tuple_text(newtup, desc, "department_id", &n2);
		char *old_del = tuple_text(oldtup, desc, "delegated_by", &n1);
		char *new_del = tuple_text(newtup, desc, "delegated_by", &n2);

		if (strcmp(old_principal, principal) != 0 || strcmp(old_office, office) != 0 ||
			(old_dept == NULL) != (new_dept == NULL) ||
			(old_dept && strcmp(old_dept, new_dept) != 0) ||
			(old_del == NULL) != (new_del == NULL) || (old_del && strcmp(old_del, new_del) != 0))
			smam_refuse(
				ERRCODE_INVALID_PARAMETER_VALUE, NULL,
				smam_format(
					"appointment %lld cannot change its holder, office, department or delegator",
					(long long) id),
				"Only the term of an appointment can change.",
				"End this appointment with smam.end_appointment() and make a new one.");
	}

	if (!until_null && until <= from)
		smam_refuse(
			ERRCODE_INVALID_PARAMETER_VALUE, NULL,
			smam_format("appointment of \"%s\" as %s ends before it begins", principal, office),
			smam_format("The term runs from %s to %s.", smam_moment_text(from),
						smam_moment_text(until)),
			"Give an end later than the start, or no end for an open term.");

	if (office_is_departmental(office) && dept_null)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
					smam_format("office %s is held for a department", office),
					"The appointment names no department.",
					"Name the department in which the office is held.");
	if (!office_is_departmental(office) && !dept_null)
		smam_refuse(
			ERRCODE_INVALID_PARAMETER_VALUE, NULL,
			smam_format("office %s is held for the whole government, not for a department", office),
			smam_format("The appointment names department %lld.", (long long) dept),
			"Leave the department empty for offices of the entity, TBS and administrators.");

	if (strcmp(office, "designate") != 0 && !delegated_null)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
					smam_format("only a designate is delegated; office %s is not", office), NULL,
					"Leave the delegator empty for this office.");

	/*
	 * The lookups below run with a fresh snapshot (read_only = false), so
	 * they see rows inserted earlier by the same statement: a restore loads
	 * a head of communications and the designations they made in one COPY.
	 */
	SPI_connect();

	if (strcmp(office, "designate") == 0)
	{
		Datum args[1];
		Oid types[1] = {INT8OID};
		int rc;
		char *d_principal, *d_office;
		bool d_dept_null, d_until_null;
		int64 d_dept = 0;
		TimestampTz d_from, d_until = 0;
		HeapTuple dt;
		TupleDesc dd;

		if (delegated_null)
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
						"a designate must be delegated by a head of communications",
						smam_format("The designation of \"%s\" names no delegating appointment.",
									principal),
						"Name the appointment of the head of communications who delegates.");

		args[0] = Int64GetDatum(delegated_by);
		rc = smam_spi_privileged("SELECT a.principal, a.office::pg_catalog.text, a.department_id, "
								 "a.valid_from, a.valid_until"
								 "  FROM smam.appointment a WHERE a.id OPERATOR(pg_catalog.=) $1",
								 1, types, args, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "delegator lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			smam_refuse(
				ERRCODE_FOREIGN_KEY_VIOLATION, "6.1",
				smam_format("delegating appointment %lld does not exist", (long long) delegated_by),
				NULL, "Name the appointment of the head of communications who delegates.");
		dt = SPI_tuptable->vals[0];
		dd = SPI_tuptable->tupdesc;
		d_principal = SPI_getvalue(dt, dd, 1);
		d_office = SPI_getvalue(dt, dd, 2);
		{
			Datum v = SPI_getbinval(dt, dd, 3, &d_dept_null);

			if (!d_dept_null)
				d_dept = DatumGetInt64(v);
		}
		d_from = DatumGetTimestampTz(SPI_getbinval(dt, dd, 4, &isnull));
		{
			Datum v = SPI_getbinval(dt, dd, 5, &d_until_null);

			if (!d_until_null)
				d_until = DatumGetTimestampTz(v);
		}

		if (strcmp(d_office, "head_of_communications") != 0)
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
						smam_format("appointment %lld is not one of a head of communications",
									(long long) delegated_by),
						smam_format("\"%s\" holds it as %s; only a head of communications "
									"delegates to a designate.",
									d_principal, d_office),
						"Name the appointment of the department's head of communications.");
		if (d_dept_null || d_dept != dept)
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
						"a designate acts for the delegator's own department",
						smam_format("The delegator is head of communications of department %lld, "
									"the designation names department %lld.",
									(long long) d_dept, (long long) dept),
						"Name the same department as the delegating head of communications.");
		if (strcmp(d_principal, principal) == 0)
			smam_refuse(
				ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
				smam_format("\"%s\" cannot be their own designate", principal),
				"A head of communications already holds the office a designation would give.",
				"Designate another person.");
		if (from < d_from)
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
						"a designation cannot begin before the delegator's term",
						smam_format("The designation begins %s; the delegator's term begins %s.",
									smam_moment_text(from), smam_moment_text(d_from)),
						"Begin the designation on or after the start of the delegator's term.");
		if (!d_until_null && (until_null || until > d_until))
			smam_refuse(
				ERRCODE_INVALID_PARAMETER_VALUE, "6.1",
				"a designation cannot outlast the delegator's term",
				smam_format("The designation ends %s; the delegator's term ends %s.",
							until_null ? "never" : smam_moment_text(until),
							smam_moment_text(d_until)),
				smam_format("End the designation no later than %s.", smam_moment_text(d_until)));
	}

	/*
	 * Nobody holds the same office twice over the same period. Two
	 * appointments of one principal made at once would each miss the other:
	 * the principal's row is locked first, so the second waits for the first
	 * to commit, and the check then reads with a snapshot taken after the
	 * lock (as ri_triggers.c does under REPEATABLE READ), which sees it.
	 */
	{
		Datum args[6];
		char nulls[6] = {' ', ' ', dept_null ? 'n' : ' ', ' ', until_null ? 'n' : ' ', ' '};
		Oid types[6] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		int rc;

		args[0] = CStringGetTextDatum(principal);
		args[1] = CStringGetTextDatum(office);
		args[2] = Int64GetDatum(dept);
		args[3] = TimestampTzGetDatum(from);
		args[4] = TimestampTzGetDatum(until);
		args[5] = Int64GetDatum(id);
		smam_spi_privileged(
			"SELECT 1 FROM smam.principal p WHERE p.role_name OPERATOR(pg_catalog.=) $1"
			"   FOR NO KEY UPDATE OF p",
			1, types, args, NULL, false, 0);
		rc = smam_spi_privileged_latest(
			"SELECT a.id FROM smam.appointment a"
			" WHERE a.principal OPERATOR(pg_catalog.=) $1"
			"   AND a.office::pg_catalog.text OPERATOR(pg_catalog.=) $2"
			"   AND a.department_id IS NOT DISTINCT FROM $3"
			"   AND a.id OPERATOR(pg_catalog.<>) $6"
			"   AND ($5 IS NULL OR a.valid_from OPERATOR(pg_catalog.<) $5)"
			"   AND (a.valid_until IS NULL OR a.valid_until OPERATOR(pg_catalog.>) $4)"
			" LIMIT 1",
			6, types, args, nulls, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "overlap check failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0)
			smam_refuse(
				ERRCODE_UNIQUE_VIOLATION, NULL,
				smam_format("\"%s\" already holds office %s%s over part of this term", principal,
							office,
							dept_null ? "" : smam_format(" for department %lld", (long long) dept)),
				smam_format("Appointment %s overlaps it.",
							SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				"End the existing appointment first, or begin this one after it ends.");
	}

	SPI_finish();
	return PointerGetDatum(newtup);
}

/*
 * For the other C sources: does the role hold the office for the department
 * (dept_null: government-wide) at the time? Same answer as
 * smam.holds_office(); the caller may or may not be connected to SPI.
 */
bool
smam_role_holds_office(const char *role, const char *office, bool dept_null, int64 dept,
					   TimestampTz at)
{
	return holds_office(role, office, dept_null, dept, at);
}

/*
 * The office by which the role may change a department's account at the
 * time, read in one scan of its appointments: entity_official (any
 * department), head_of_communications or designate, department_staff (its
 * own department); NULL when it holds none of them.
 */
const char *
smam_account_editor_office(const char *role, int64 dept, TimestampTz at)
{
	HeldOffice *held;
	int n = offices_in_force(role, at, &held);
	const char *best = NULL;

	for (int i = 0; i < n; i++)
	{
		const char *o = held[i].office;

		if (strcmp(o, "entity_official") == 0)
			return "entity_official";
		if (held[i].dept_null || held[i].dept != dept)
			continue;
		if (strcmp(o, "head_of_communications") == 0)
			best = "head_of_communications";
		else if (strcmp(o, "designate") == 0 && best == NULL)
			best = "designate";
		else if (strcmp(o, "department_staff") == 0 && best == NULL)
			best = "department_staff";
	}
	return best;
}
