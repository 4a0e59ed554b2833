/*
 * approvals.c: the rules of approvals and reviews.
 *
 * One BEFORE INSERT OR UPDATE trigger, smam.approval_guard(kind, offices,
 * requirement, open status, on edit), guards the tables that are decided:
 * strategies (6.1.1) and implementation plans (6.1.2), approved by the head
 * of communications or designate of their department, and submissions
 * (6.1.3), reviewed by an official or reviewer of the entity (6.2.1).
 *
 * - A row is born open (draft, pending), with its author recorded; every
 *   edit of its content adds the editor to the authors and a version.
 * - A decision is made by a role holding one of the offices, for the row's
 *   department (or government-wide for the entity), at the moment of the
 *   decision; never by one of the row's authors (separation of duties); and
 *   never together with an edit, so what was seen is what is decided.
 * - Editing an approved row voids its approval ("void"): back to draft, a
 *   new version, the voiding recorded; a decided submission ("freeze")
 *   cannot be edited at all.
 * - A decided row cannot be decided again: of two concurrent decisions, the
 *   second waits for the first's row lock, then sees it decided and is
 *   refused. Only an approved row may be retired, by the same offices.
 *
 * Every decision is appended to the sealed record smam.decision.
 */
#include "smam.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include <ctype.h>

PG_FUNCTION_INFO_V1(smam_approval_guard);
PG_FUNCTION_INFO_V1(smam_rehome_decided_rows);

/*
 * Armed only inside smam_rehome_decided_rows(), for its UPDATEs: the rows of
 * one department, to the department it is merged into, nothing else changed.
 */
static int64 rehome_from = 0;
static int64 rehome_into = 0;

/* Columns that record the process, not the content decided. */
static const char *const bookkeeping[] = {
	"id", "status", "version", "authors", "decided_by", "decided_office", "decided_at",
	"decision_note", "consumed_at", "consumed_stage", "superseded_by", NULL
};

typedef struct Subject
{
	const char *kind;			/* strategy, implementation_plan, submission */
	const char *noun;			/* for messages */
	char	   *offices;		/* comma-separated */
	const char *requirement;
	const char *open;			/* draft or pending */
	bool		voids;			/* an edit voids a decision (else: frozen) */
	bool		entity;			/* the offices are government-wide */
	int64		id;
	int64		dept;
	char	   *who;
	TimestampTz at;
} Subject;

static char *
get(HeapTuple tup, TupleDesc desc, const char *column)
{
	int			attno = SPI_fnumber(desc, column);

	if (attno <= 0)
		elog(ERROR, "a decided table has no column \"%s\"", column);
	return SPI_getvalue(tup, desc, attno);
}

/* When an earlier decision was made, as refusals write moments. */
static const char *
decided_at_text(HeapTuple tup, TupleDesc desc)
{
	int			attno = SPI_fnumber(desc, "decided_at");
	bool		isnull;
	Datum		d;

	if (attno <= 0)
		elog(ERROR, "a decided table has no column \"decided_at\"");
	d = SPI_getbinval(tup, desc, attno, &isnull);
	return isnull ? "?" : smam_moment_text(DatumGetTimestampTz(d));
}

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

static bool
is_bookkeeping(const char *name)
{
	for (int i = 0; bookkeeping[i] != NULL; i++)
		if (strcmp(bookkeeping[i], name) == 0)
			return true;
	return false;
}

/* Does any content column differ? Names the first in *which. */
static bool
content_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc, const char **which)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || is_bookkeeping(NameStr(att->attname)))
			continue;
		if (!same(SPI_getvalue(oldtup, desc, i + 1), SPI_getvalue(newtup, desc, i + 1)))
		{
			*which = NameStr(att->attname);
			return true;
		}
	}
	return false;
}

static bool
consumption_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	if (SPI_fnumber(desc, "consumed_at") <= 0)
		return false;
	return !same(get(oldtup, desc, "consumed_at"), get(newtup, desc, "consumed_at")) ||
		!same(get(oldtup, desc, "consumed_stage"), get(newtup, desc, "consumed_stage"));
}

/* The authors of the old row, plus who, as a text[] datum. */
static Datum
authors_with(HeapTuple oldtup, TupleDesc desc, const char *who, bool *already)
{
	int			attno = SPI_fnumber(desc, "authors");
	bool		isnull;
	Datum		d = oldtup ? SPI_getbinval(oldtup, desc, attno, &isnull) : (Datum) 0;
	Datum	   *elems = NULL;
	int			n = 0;
	Datum	   *out;

	*already = false;
	if (oldtup != NULL && !isnull)
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &n);
	out = palloc(sizeof(Datum) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		out[i] = elems[i];
		if (strcmp(TextDatumGetCString(elems[i]), who) == 0)
			*already = true;
	}
	if (!*already)
		out[n++] = CStringGetTextDatum(who);
	return PointerGetDatum(construct_array(out, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static HeapTuple
set_cols(HeapTuple tup, TupleDesc desc, int n, const char **names, Datum *vals, bool *nulls)
{
	int			cols[8];

	Assert(n <= 8);
	for (int i = 0; i < n; i++)
	{
		cols[i] = SPI_fnumber(desc, names[i]);
		if (cols[i] <= 0)
			elog(ERROR, "a decided table has no column \"%s\"", names[i]);
	}
	return heap_modify_tuple_by_cols(tup, desc, n, cols, vals, nulls);
}

static void
record_decision(Subject *s, int version, const char *decision, const char *office, const char *note)
{
	Oid			types[8] = {TEXTOID, INT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', office ? ' ' : 'n', note ? ' ' : 'n'};

	values[0] = CStringGetTextDatum(s->kind);
	values[1] = Int64GetDatum(s->id);
	values[2] = Int64GetDatum(s->dept);
	values[3] = Int32GetDatum(version);
	values[4] = CStringGetTextDatum(decision);
	values[5] = CStringGetTextDatum(s->who);
	values[6] = office ? CStringGetTextDatum(office) : (Datum) 0;
	values[7] = note ? CStringGetTextDatum(note) : (Datum) 0;
	smam_write_record("INSERT INTO smam.decision (subject, subject_id, department_id, version, decision,"
					  " decided_by, office, decided_at, note)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7::smam.office, pg_catalog.now(), $8)",
					  8, types, values, nulls);
}

/* The office the acting role holds among the subject's, or refuse. */
static const char *
require_decider(Subject *s, const char *act)
{
	char	   *list = pstrdup(s->offices);
	char	   *save = NULL;

	for (char *o = strtok_r(list, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save))
	{
		if (smam_role_holds_office(s->who, o, s->entity, s->dept, s->at))
		{
			if (strcmp(o, "head_of_communications") == 0 &&
				smam_role_holds_office(s->who, "designate", false, s->dept, s->at))
				return "designate";
			return o;
		}
	}
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, s->requirement,
				smam_format("role \"%s\" may not %s %s %lld", s->who, act, s->noun, (long long) s->id),
				smam_format("Deciding requires the office %s%s, held at the moment of the decision.",
							s->entity ? s->offices : "head_of_communications (or designate)",
							s->entity ? "" : smam_format(" for department %lld", (long long) s->dept)),
				"Ask a holder of that office, or an administrator to appoint you.");
	return NULL;				/* not reached */
}

/*
 * Hub and spoke. A plan is based on a strategy of its department (the
 * departmental one, or a program strategy), a program strategy rolls into
 * the departmental strategy of its department, and approving either needs
 * its basis approved and in force: for a program strategy named as a plan's
 * basis, its departmental strategy too. smam never re-attaches a plan or a
 * program strategy to another basis: that is an edit, which voids its
 * approval.
 */
typedef struct Basis
{
	int64		id;
	int64		dept;
	bool		departmental;
	const char *status;
	bool		started;		/* in force from today or before */
	bool		over;			/* in force until today or before */
	const char *from;
	const char *until;
	int64		rolls_into;		/* 0: none */
} Basis;

#define BASIS_SQL \
	"SELECT s.department_id, s.program IS NULL, s.status::pg_catalog.text," \
	"       s.in_force_from OPERATOR(pg_catalog.<=) smam.today()," \
	"       s.in_force_until IS NOT NULL AND s.in_force_until OPERATOR(pg_catalog.<=) smam.today()," \
	"       pg_catalog.to_char(s.in_force_from, 'YYYY-MM-DD')," \
	"       pg_catalog.to_char(s.in_force_until, 'YYYY-MM-DD'), s.rolls_into" \
	"  FROM smam.strategy s WHERE s.id OPERATOR(pg_catalog.=) $1"

/*
 * A strategy's row, or false when there is none. With lock, FOR SHARE: an
 * edit voiding its approval waits for this decision, or this decision sees
 * the edit, never half of each.
 */
static bool
read_basis(int64 id, bool lock, Basis *b)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	HeapTuple	row;
	TupleDesc	desc;
	char	   *rolls;

	smam_spi_privileged(lock ? BASIS_SQL " FOR SHARE OF s" : BASIS_SQL, 1, types, values, NULL, !lock, 1);
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	b->id = id;
	b->dept = pg_strtoint64(SPI_getvalue(row, desc, 1));
	b->departmental = strcmp(SPI_getvalue(row, desc, 2), "t") == 0;
	b->status = SPI_getvalue(row, desc, 3);
	b->started = strcmp(SPI_getvalue(row, desc, 4), "t") == 0;
	b->over = strcmp(SPI_getvalue(row, desc, 5), "t") == 0;
	b->from = SPI_getvalue(row, desc, 6);
	b->until = SPI_getvalue(row, desc, 7);
	rolls = SPI_getvalue(row, desc, 8);
	b->rolls_into = rolls ? pg_strtoint64(rolls) : 0;
	return true;
}

/* Why a strategy is not approved and in force today, or NULL when it is. */
static char *
not_in_force(const Basis *b)
{
	if (strcmp(b->status, "approved") != 0)
		return smam_format("Strategy %lld is %s.", (long long) b->id, b->status);
	if (!b->started)
		return smam_format("Strategy %lld is in force from %s.", (long long) b->id, b->from);
	if (b->over)
		return smam_format("Strategy %lld was in force until %s.", (long long) b->id, b->until);
	return NULL;
}

/*
 * Does the strategy stand as a basis today: approved and in force, and for
 * a program strategy, rolling into a departmental strategy approved and in
 * force? If not, *why says what fails, in a sentence. Locks what it reads.
 */
bool
smam_basis_in_force(int64 strategy, char **why)
{
	Basis		b;
	Basis		hub;

	*why = NULL;
	if (!read_basis(strategy, true, &b))
	{
		*why = smam_format("Strategy %lld does not exist.", (long long) strategy);
		return false;
	}
	if ((*why = not_in_force(&b)) != NULL)
		return false;
	if (b.departmental)
		return true;
	if (b.rolls_into == 0)
	{
		*why = smam_format("Program strategy %lld names no departmental strategy to roll into.",
						   (long long) strategy);
		return false;
	}
	if (!read_basis(b.rolls_into, true, &hub))
		elog(ERROR, "strategy %lld rolls into strategy %lld, which is missing", (long long) strategy,
			 (long long) b.rolls_into);
	if (not_in_force(&hub) != NULL)
	{
		*why = smam_format("Program strategy %lld rolls into departmental strategy %lld. %s",
						   (long long) strategy, (long long) b.rolls_into, not_in_force(&hub));
		return false;
	}
	return true;
}

/* The basis a row names (rolls_into, strategy_id), 0 for none. */
static int64
named_basis(HeapTuple tup, TupleDesc desc, const char *column)
{
	char	   *v = get(tup, desc, column);

	return v ? pg_strtoint64(v) : 0;
}

/*
 * A basis named by a strategy or plan being written: a strategy of the same
 * department (another department's is refused as one that does not exist),
 * not retired; for a program strategy, a departmental one. Checked when the
 * row is written with a new basis, whoever writes it.
 */
static void
check_basis(Subject *s, HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	bool		strategy = strcmp(s->kind, "strategy") == 0;
	const char *column = strategy ? "rolls_into" : "strategy_id";
	int64		named;
	Basis		b;

	if (!strategy && strcmp(s->kind, "implementation_plan") != 0)
		return;
	named = named_basis(tup, desc, column);
	if (oldtup != NULL && named == named_basis(oldtup, desc, column) &&
		(!strategy || same(get(oldtup, desc, "program"), get(tup, desc, "program"))))
		return;
	if (strategy && named != 0 && get(tup, desc, "program") == NULL)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1.1",
					smam_format("departmental strategy %lld cannot roll into strategy %lld",
								(long long) s->id, (long long) named),
					"The departmental strategy is the overarching one; program strategies roll into it.",
					"Leave rolls_into empty for the departmental strategy, or give the strategy its program.");
	if (named == 0)
		return;
	if (!read_basis(named, false, &b) || b.dept != s->dept)
		smam_refuse(ERRCODE_FOREIGN_KEY_VIOLATION, "6.1.1",
					smam_format("strategy %lld is not a strategy of department %lld", (long long) named,
								(long long) s->dept),
					strategy ? "A program strategy rolls into the departmental strategy of its own department." :
					"An implementation plan is based on a social media strategy of its own department.",
					"Name one of the department's strategies (smam.strategy_hub lists them).");
	if (strategy && !b.departmental)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1.1",
					smam_format("strategy %lld is a program strategy; program strategy %lld cannot roll into it",
								(long long) named, (long long) s->id),
					"Program strategies roll into the overarching departmental strategy, not into each other.",
					"Name the department's departmental strategy.");
	if (strcmp(b.status, "retired") == 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.1",
					smam_format("strategy %lld is retired", (long long) named),
					"A retired strategy is the basis of nothing new; what rests on it is a 6.1.1 finding.",
					"Name a strategy in force, or one in draft to be approved first.");
}

/* A strategy or plan is approved only on a basis that stands now. */
static void
require_basis(Subject *s, HeapTuple tup, TupleDesc desc)
{
	bool		strategy = strcmp(s->kind, "strategy") == 0;
	int64		named = named_basis(tup, desc, strategy ? "rolls_into" : "strategy_id");
	const char *why_basis = strategy ? "Program strategies roll into the overarching departmental strategy." :
		"An implementation plan is based on the departmental social media strategy.";
	char	   *why;

	if (named == 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.1",
					strategy ?
					smam_format("program strategy %lld names no departmental strategy to roll into",
								(long long) s->id) :
					smam_format("implementation plan %lld names no social media strategy", (long long) s->id),
					why_basis,
					smam_format("Name it with smam.revise('%s', %lld, '%s', '<strategy>'), then approve.",
								s->kind, (long long) s->id, strategy ? "rolls_into" : "strategy_id"));
	if (!smam_basis_in_force(named, &why))
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.1",
					strategy ?
					smam_format("departmental strategy %lld, which program strategy %lld rolls into, is not approved and in force",
								(long long) named, (long long) s->id) :
					smam_format("strategy %lld, on which implementation plan %lld is based, is not approved and in force",
								(long long) named, (long long) s->id),
					smam_format("%s %s", why, why_basis),
					"Have the strategy approved first, or name one in force with smam.revise().");
}

/* What must hold before a strategy or plan is approved. */
static void
approval_prerequisites(Subject *s, HeapTuple tup, TupleDesc desc)
{
	if (strcmp(s->kind, "strategy") == 0)
	{
		static const char *const elements[] = {
			"mandate", "business_value", "alignment", "governance", "performance_evaluation",
			"lessons_learned", NULL
		};
		StringInfoData missing;

		initStringInfo(&missing);
		for (int i = 0; elements[i] != NULL; i++)
			if (blank(get(tup, desc, elements[i])))
				appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", elements[i]);
		if (missing.len > 0)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.1",
						smam_format("strategy %lld is incomplete", (long long) s->id),
						smam_format("It lacks: %s.", missing.data),
						"Complete it with smam.revise() before approval.");
		if (get(tup, desc, "program") != NULL)
			require_basis(s, tup, desc);
	}
	else if (strcmp(s->kind, "implementation_plan") == 0)
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(s->id)};
		char	   *missing;

		smam_spi_privileged("SELECT pg_catalog.array_to_string(smam.plan_missing_unchecked($1), ', ')",
							1, types, values, NULL, true, 1);
		missing = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (!blank(missing))
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
						smam_format("implementation plan %lld is incomplete", (long long) s->id),
						smam_format("It lacks: %s.", missing),
						"Complete the plan with smam.revise() and smam.plan_pia() before approval.");
		require_basis(s, tup, desc);
	}
}

/*
 * Who may write the content: staff, head or designate of the department for
 * a strategy or plan; the head or designate for a submission (6.1.3), which
 * belongs to its account's department. Checked for every INSERT and every
 * edit, the table owner's included.
 */
static void
require_writer(Subject *s, HeapTuple tup, TupleDesc desc)
{
	bool		submission = strcmp(s->kind, "submission") == 0;

	if (smam_role_holds_office(s->who, "head_of_communications", false, s->dept, s->at) ||
		(!submission && smam_role_holds_office(s->who, "department_staff", false, s->dept, s->at)))
	{
		if (submission)
		{
			Oid			types[2] = {INT8OID, INT8OID};
			Datum		values[2];

			values[0] = Int64GetDatum(pg_strtoint64(get(tup, desc, "account_id")));
			values[1] = Int64GetDatum(s->dept);
			smam_spi_privileged("SELECT 1 FROM smam.account a WHERE a.id OPERATOR(pg_catalog.=) $1"
								" AND a.department_id OPERATOR(pg_catalog.=) $2",
								2, types, values, NULL, true, 1);
			if (SPI_processed == 0)
				smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1.3",
							smam_format("submission %lld names department %lld, not its account's",
										(long long) s->id, (long long) s->dept),
							NULL, "Make the submission through smam.submit().");
		}
		return;
	}
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, submission ? "6.1.3" : s->requirement,
				smam_format("role \"%s\" may not write %s %lld", s->who, s->noun, (long long) s->id),
				smam_format("Writing it requires the office %s for department %lld, held now.",
							submission ? "head_of_communications (or designate)" :
							"department_staff or head_of_communications (or designate)",
							(long long) s->dept),
				"Ask the department's staff or head of communications, or an administrator to appoint you.");
}

static HeapTuple
on_insert(Subject *s, HeapTuple tup, TupleDesc desc)
{
	const char *names[7] = {"status", "version", "authors", "decided_by", "decided_office",
	"decided_at", "decision_note"};
	Datum		vals[7];
	bool		nulls[7] = {false, false, false, true, true, true, true};
	bool		already;

	if (strcmp(get(tup, desc, "status"), s->open) != 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
					smam_format("a new %s starts %s", s->noun, s->open),
					"Decisions are made on what exists, by the office that makes them.",
					smam_format("Create it %s, then have it decided.", s->open));
	require_writer(s, tup, desc);
	check_basis(s, NULL, tup, desc);
	if (SPI_fnumber(desc, "consumed_at") > 0 && get(tup, desc, "consumed_at") != NULL)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
					smam_format("a new %s cannot be used up", s->noun), NULL, NULL);
	vals[0] = DirectFunctionCall2(enum_in, CStringGetDatum(s->open),
								  ObjectIdGetDatum(TupleDescAttr(desc, SPI_fnumber(desc, "status") - 1)->atttypid));
	vals[1] = Int32GetDatum(1);
	vals[2] = authors_with(NULL, desc, s->who, &already);
	return set_cols(tup, desc, 7, names, vals, nulls);
}

static HeapTuple
on_update(Subject *s, HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	const char *old_s = get(oldtup, desc, "status");
	const char *new_s = get(tup, desc, "status");
	int			version = pg_strtoint32(get(oldtup, desc, "version"));
	const char *which = NULL;
	bool		edited = content_changed(oldtup, tup, desc, &which);
	bool		was_open = strcmp(old_s, s->open) == 0;
	bool		already;
	const char *names[7] = {"version", "authors", "decided_by", "decided_office", "decided_at",
	"decision_note", "status"};
	Datum		vals[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	if (was_open && strcmp(new_s, s->open) == 0)
	{
		/* An edit of an open row: a new version by one more author. */
		if (edited)
		{
			require_writer(s, tup, desc);
			check_basis(s, oldtup, tup, desc);
		}
		vals[0] = Int32GetDatum(edited ? version + 1 : version);
		vals[1] = authors_with(oldtup, desc, s->who, &already);
		if (!edited)
			vals[1] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "authors"), &nulls[1]);
		nulls[2] = nulls[3] = nulls[4] = true;
		return set_cols(tup, desc, 5, names, vals, nulls);
	}

	if (was_open)
	{
		/* A decision. */
		const char *office;
		bool		author;
		const char *act = strcmp(new_s, "rejected") == 0 ? "reject" :
			strcmp(new_s, "accepted") == 0 ? "accept" : "approve";

		if (strcmp(new_s, "retired") == 0)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
						smam_format("%s %lld is not approved and cannot be retired", s->noun, (long long) s->id),
						NULL, "Only an approved one is retired.");
		if (edited)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
						smam_format("%s %lld cannot be changed and decided at once", s->noun, (long long) s->id),
						smam_format("Column %s changes in the same statement as the decision.", which),
						"Make the change, then decide on the new version.");
		office = require_decider(s, act);
		authors_with(oldtup, desc, s->who, &author);
		if (author)
			smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, s->requirement,
						smam_format("role \"%s\" may not %s %s %lld: they %s it",
									s->who, act, s->noun, (long long) s->id,
									strcmp(s->kind, "submission") == 0 ? "submitted" : "wrote"),
						"Separation of duties: nobody approves or reviews what they wrote or submitted.",
						"Ask another holder of the office to decide.");
		if (strcmp(new_s, "approved") == 0)
			approval_prerequisites(s, tup, desc);
		if (strcmp(new_s, "rejected") == 0 && blank(get(tup, desc, "decision_note")))
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, s->requirement,
						smam_format("rejecting %s %lld needs the reasons", s->noun, (long long) s->id),
						NULL, "Give the reasons, for the department to act on.");
		record_decision(s, version, new_s, office, get(tup, desc, "decision_note"));
		vals[0] = Int32GetDatum(version);
		vals[1] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "authors"), &nulls[1]);
		vals[2] = DirectFunctionCall1(namein, CStringGetDatum(s->who));
		vals[3] = DirectFunctionCall2(enum_in, CStringGetDatum(office),
									  ObjectIdGetDatum(TupleDescAttr(desc, SPI_fnumber(desc, "decided_office") - 1)->atttypid));
		vals[4] = TimestampTzGetDatum(s->at);
		return set_cols(tup, desc, 5, names, vals, nulls);
	}

	/* The row was decided. */
	if (edited)
	{
		if (!s->voids || strcmp(old_s, "approved") != 0 ||
			!(strcmp(new_s, old_s) == 0 || strcmp(new_s, s->open) == 0))
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
						smam_format("%s %lld has been %s and cannot be changed", s->noun, (long long) s->id, old_s),
						smam_format("Column %s would change.", which),
						strcmp(s->kind, "submission") == 0 ?
						"Make a new submission." : "A retired one stays as it was; draft a new one.");
		/* Editing an approved row voids the approval. */
		require_writer(s, tup, desc);
		check_basis(s, oldtup, tup, desc);
		record_decision(s, version + 1, "voided", NULL,
						smam_format("approval of version %d voided: %s changed by %s", version, which, s->who));
		vals[0] = Int32GetDatum(version + 1);
		vals[1] = authors_with(oldtup, desc, s->who, &already);
		nulls[2] = nulls[3] = nulls[4] = nulls[5] = true;
		vals[6] = DirectFunctionCall2(enum_in, CStringGetDatum(s->open),
									  ObjectIdGetDatum(TupleDescAttr(desc, SPI_fnumber(desc, "status") - 1)->atttypid));
		return set_cols(tup, desc, 7, names, vals, nulls);
	}
	if (strcmp(new_s, old_s) == 0 && consumption_changed(oldtup, tup, desc))
	{
		/* smam uses up an accepted submission: nothing else may change. */
		if (get(oldtup, desc, "consumed_at") != NULL || strcmp(old_s, "accepted") != 0)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
						smam_format("%s %lld cannot be used", s->noun, (long long) s->id),
						"Only an accepted submission is used, once.", NULL);
		vals[0] = Int32GetDatum(version);
		vals[1] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "authors"), &nulls[1]);
		vals[2] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "decided_by"), &nulls[2]);
		vals[3] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "decided_office"), &nulls[3]);
		vals[4] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "decided_at"), &nulls[4]);
		vals[5] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "decision_note"), &nulls[5]);
		return set_cols(tup, desc, 6, names, vals, nulls);
	}
	if (strcmp(old_s, "approved") == 0 && strcmp(new_s, "retired") == 0)
	{
		const char *office = require_decider(s, "retire");

		record_decision(s, version, "retired", office, get(tup, desc, "decision_note"));
		vals[0] = Int32GetDatum(version);
		vals[1] = SPI_getbinval(oldtup, desc, SPI_fnumber(desc, "authors"), &nulls[1]);
		vals[2] = DirectFunctionCall1(namein, CStringGetDatum(s->who));
		vals[3] = DirectFunctionCall2(enum_in, CStringGetDatum(office),
									  ObjectIdGetDatum(TupleDescAttr(desc, SPI_fnumber(desc, "decided_office") - 1)->atttypid));
		vals[4] = TimestampTzGetDatum(s->at);
		return set_cols(tup, desc, 5, names, vals, nulls);
	}
	smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s->requirement,
				smam_format("%s %lld has already been %s", s->noun, (long long) s->id, old_s),
				smam_format("It was %s by \"%s\" at %s; a decision is made once.", old_s,
							get(oldtup, desc, "decided_by") ? get(oldtup, desc, "decided_by") : "?",
							decided_at_text(oldtup, desc)),
				strcmp(s->kind, "submission") == 0 ? "Make a new submission if something changed." :
				"Edit it to void the approval, or draft a new one.");
	return NULL;				/* not reached */
}

/*
 * The UPDATE smam_rehome_decided_rows() makes: a row of the merged
 * department to the department it joins, every other column as it was.
 * Anything else while armed is a bug, not a user's error.
 */
static HeapTuple
guard_rehoming(HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	int			dept_att = SPI_fnumber(desc, "department_id");
	bool		n1,
				n2;
	Datum		d1 = heap_getattr(oldtup, dept_att, desc, &n1);
	Datum		d2 = heap_getattr(tup, dept_att, desc, &n2);

	if (n1 || n2 || DatumGetInt64(d1) != rehome_from || DatumGetInt64(d2) != rehome_into)
		elog(ERROR, "the merge path moves rows of department %lld to department %lld only",
			 (long long) rehome_from, (long long) rehome_into);
	for (int i = 1; i <= desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i - 1);
		Datum		a,
					b;

		if (att->attisdropped || i == dept_att)
			continue;
		a = heap_getattr(oldtup, i, desc, &n1);
		b = heap_getattr(tup, i, desc, &n2);
		if (n1 != n2 || (!n1 && !datumIsEqual(a, b, att->attbyval, att->attlen)))
			elog(ERROR, "the merge path changes only the department, not %s", NameStr(att->attname));
	}
	return tup;
}

/*
 * smam.rehome_decided_rows(from, into): the strategies, implementation plans
 * and submissions of a department merged into another become that one's,
 * unchanged, for smam.merge_departments(), which checks the decision; this
 * checks the acting role again (the entity's official, an administrator)
 * and arms the trigger for these UPDATEs only. Returns the rows moved.
 */
Datum
smam_rehome_decided_rows(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {"strategy", "implementation_plan", "submission", NULL};
	char	   *who = GetUserNameFromId(smam_acting_role(), false);
	TimestampTz at = GetCurrentTransactionStartTimestamp();
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
	int64		moved = 0;

	if (!(smam_role_holds_office(who, "entity_official", true, 0, at) ||
		  smam_role_holds_office(who, "administrator", true, 0, at) ||
		  superuser_arg(smam_acting_role())))
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.2.4",
					smam_format("role \"%s\" may not merge departments", who),
					"The entity maintains the index of official accounts and decides which department is which.",
					"Ask the designated senior official of the entity or an administrator of smam.");
	if (PG_GETARG_INT64(0) == PG_GETARG_INT64(1))
		elog(ERROR, "a department is not merged into itself");
	SPI_connect();
	rehome_from = PG_GETARG_INT64(0);
	rehome_into = PG_GETARG_INT64(1);
	PG_TRY();
	{
		for (int i = 0; tables[i] != NULL; i++)
		{
			int			rc = SPI_execute_with_args(smam_format("UPDATE smam.%s SET department_id = $2"
															   " WHERE department_id OPERATOR(pg_catalog.=) $1",
															   tables[i]),
												   2, types, values, NULL, false, 0);

			if (rc != SPI_OK_UPDATE)
				elog(ERROR, "moving the rows of smam.%s failed: %s", tables[i], SPI_result_code_string(rc));
			moved += (int64) SPI_processed;
		}
	}
	PG_FINALLY();
	{
		rehome_from = 0;
		rehome_into = 0;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT64(moved);
}

Datum
smam_approval_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Trigger    *tg;
	TupleDesc	desc;
	HeapTuple	result;
	Subject		s;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_approval_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event))
		elog(ERROR, "smam_approval_guard: must be fired before INSERT or UPDATE, for each row");
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && smam_restoring_dump(td->tg_relation))
		return PointerGetDatum(td->tg_trigtuple);
	tg = td->tg_trigger;
	if (tg->tgnargs != 5)
		elog(ERROR, "smam_approval_guard: needs kind, offices, requirement, open status, void|freeze");

	memset(&s, 0, sizeof(s));
	s.kind = tg->tgargs[0];
	s.noun = strcmp(s.kind, "implementation_plan") == 0 ? "implementation plan" : s.kind;
	s.offices = tg->tgargs[1];
	s.requirement = tg->tgargs[2];
	s.open = tg->tgargs[3];
	s.voids = strcmp(tg->tgargs[4], "void") == 0;
	s.entity = strncmp(s.offices, "entity", 6) == 0;
	s.who = GetUserNameFromId(smam_acting_role(), false);
	s.at = GetCurrentTransactionStartTimestamp();
	desc = td->tg_relation->rd_att;

	/*
	 * The rules read these columns, all NOT NULL where the table has them. A
	 * row lacking one is never stored: its NOT NULL constraint, checked after
	 * this trigger, refuses it (23502). Reading it here would dereference the
	 * missing value.
	 */
	{
		static const char *const required[] = {"id", "department_id", "status", "account_id", NULL};
		HeapTuple	row = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;

		for (int i = 0; required[i] != NULL; i++)
		{
			int			attno = SPI_fnumber(desc, required[i]);

			if (attno > 0 && heap_attisnull(row, attno, desc))
				return PointerGetDatum(row);
		}
	}

	if (rehome_from != 0 && TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(guard_rehoming(td->tg_trigtuple, td->tg_newtuple, desc));

	SPI_connect();
	s.id = pg_strtoint64(get(td->tg_trigtuple, desc, "id"));
	s.dept = pg_strtoint64(get(td->tg_trigtuple, desc, "department_id"));
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		result = on_insert(&s, td->tg_trigtuple, desc);
	else
	{
		if (!same(get(td->tg_trigtuple, desc, "department_id"), get(td->tg_newtuple, desc, "department_id")))
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, s.requirement,
						smam_format("%s %lld cannot change department", s.noun, (long long) s.id),
						NULL, "Draft a new one in the other department.");
		result = on_update(&s, td->tg_trigtuple, td->tg_newtuple, desc);
	}
	result = SPI_copytuple(result);
	SPI_finish();
	return PointerGetDatum(result);
}
