/*
 * lifecycle.c: the life cycle of an official account (requirement 6.1.2).
 *
 * A BEFORE trigger on smam.account checks every INSERT, UPDATE and DELETE,
 * whoever makes it: the SQL functions, an application's plain UPDATE, the
 * table's owner. An account is planned (INSERT in planning) and then moves
 * only along these arrows, each with its guards and the office that may
 * make it:
 *
 *   planning       -> creation        entity official (6.2.2); approved
 *                                     departmental strategy in force (6.1.1);
 *                                     approved, complete plan with a PIA for
 *                                     the platform (6.1.2); platform
 *                                     pre-reviewed (6.2.3); accepted creation
 *                                     submission (6.1.3, 6.2.1)
 *   creation       -> configuration   entity official; accepted configuration
 *                                     submission, whose configuration is applied
 *   configuration  -> implementation  head of communications or designate
 *                                     (6.1.2); meets the specifications (6.1.5)
 *   implementation -> evaluation      head of communications; an evaluation
 *                                     under way
 *   evaluation     -> implementation  head of communications; the evaluation
 *                                     completed with its findings
 *   implementation,
 *   evaluation     -> disposition     entity official; accepted disposition
 *                                     submission
 *   disposition    -> disposed        entity official; an archive record
 *   planning       -> disposed        head of communications or entity
 *                                     official; the reason (stage_note)
 *
 * The address and the plan are settled in planning. The one exception:
 * the head of communications (or designate) attaches an approved, complete
 * plan of the department, with a PIA for the platform, to an account that
 * left planning without one (onboarded, or moved while enforcement was off);
 * smam sets plan_attached_at. See guard_plan_attachment().
 *
 * A configuration change of a live account (implementation, evaluation)
 * needs an accepted configuration submission proposing exactly it, and must
 * meet the specifications. Every move is appended to smam.stage_history.
 *
 * Who may act (42501) is always enforced. When an administrator has turned
 * enforcement off (smam.enforced() false), a missing prerequisite (55000) is
 * not refused but recorded with the move in stage_history.waived.
 *
 * The only way past planning without the guards is onboarding: the C
 * function smam.insert_onboarded_account() checks the acting role, arms a
 * backend-local flag that no SQL can set, makes one INSERT and disarms the
 * flag whatever happens; the trigger consumes the flag on that INSERT.
 */
#include "smam.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include <ctype.h>

PG_FUNCTION_INFO_V1(smam_lifecycle_guard);
PG_FUNCTION_INFO_V1(smam_insert_onboarded_account);
PG_FUNCTION_INFO_V1(smam_reassign_account);
PG_FUNCTION_INFO_V1(smam_record_guard);
PG_FUNCTION_INFO_V1(smam_move_problems);

/* Armed only inside smam_insert_onboarded_account(), for one INSERT. */
static bool onboarding_armed = false;

/*
 * Armed only inside smam_reassign_account(), for one UPDATE of one account
 * that changes its department and nothing else: the entity's decision to
 * move an account (smam.move_account) or to merge two departments
 * (smam.merge_departments).
 */
static int64 reassign_account = 0;
static int64 reassign_department = 0;
static bool reassign_keeps_plan = false;

/* Armed only inside smam_write_record(), for one INSERT into a record. */
static bool record_armed = false;

static void last_edit_forget(void);

/* ---- shared helpers ---- */

void
smam_write_record(const char *sql, int nargs, Oid *types, Datum *values,
				  const char *nulls)
{
	record_armed = true;
	PG_TRY();
	{
		smam_spi_privileged(sql, nargs, types, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		record_armed = false;
	}
	PG_END_TRY();
}

/* The first column of the first row as text (NULL: no row or NULL). */
static char *
query_text(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	smam_spi_privileged(sql, nargs, types, values, nulls, true, 1);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static bool
query_bool(const char *sql, int nargs, Oid *types, Datum *values)
{
	char	   *v = query_text(sql, nargs, types, values, NULL);

	return v != NULL && strcmp(v, "t") == 0;
}

bool
smam_department_has_strategy(int64 dept)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(dept)};

	/*
	 * FOR SHARE: a concurrent edit (which voids the approval) waits for this
	 * decision, or this decision sees the edit, never half of each.
	 */
	smam_spi_privileged("SELECT s.id FROM smam.strategy s"
						" WHERE s.department_id OPERATOR(pg_catalog.=) $1 AND s.program IS NULL"
						"   AND s.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status"
						"   AND s.in_force_from OPERATOR(pg_catalog.<=) smam.today()"
						"   AND (s.in_force_until IS NULL OR s.in_force_until OPERATOR(pg_catalog.>) smam.today())"
						" LIMIT 1 FOR SHARE",
						1, types, values, NULL, false, 0);
	return SPI_processed > 0;
}

/*
 * The number of a column of smam.account. SPI_fnumber() compares the name
 * with every column's; the trigger asks for some twenty columns of every
 * row, so the answers are remembered, by the address of the name (a literal
 * here), for one tuple descriptor. Any relcache invalidation forgets them
 * (an ALTER TABLE sends one before a new descriptor is used), and so does a
 * descriptor other than the one they were read from.
 */
static struct
{
	const char *name;
	int			attno;
}			known_attnos[64];
static int	nknown = 0;
static TupleDesc known_desc = NULL;

/* From smam's relcache callback (smam.c). */
void
smam_lifecycle_relcache_inval(Oid relid)
{
	known_desc = NULL;
	nknown = 0;
	last_edit_forget();
}

static int
account_attno(TupleDesc desc, const char *column)
{
	int			attno;

	if (desc != known_desc)
	{
		known_desc = desc;
		nknown = 0;
	}
	for (int i = 0; i < nknown; i++)
		if (known_attnos[i].name == column)
			return known_attnos[i].attno;
	attno = SPI_fnumber(desc, column);
	if (attno <= 0)
		elog(ERROR, "smam.account has no column \"%s\"", column);
	if (nknown < lengthof(known_attnos))
	{
		known_attnos[nknown].name = column;
		known_attnos[nknown++].attno = attno;
	}
	return attno;
}

static char *
col_text(HeapTuple tup, TupleDesc desc, const char *column)
{
	return SPI_getvalue(tup, desc, account_attno(desc, column));
}

/*
 * The stage of a row, as its label. The trigger asks for it twice per
 * update; the labels of the enum's values are remembered for the session
 * (by value OID, which a label keeps for as long as the type exists).
 */
static const char *
stage_label(Datum d, HeapTuple tup, TupleDesc desc, int attno)
{
	static struct
	{
		Oid			value;
		char		label[NAMEDATALEN];
	}			seen[16];
	static int	nseen = 0;
	char	   *label;

	for (int i = 0; i < nseen; i++)
		if (seen[i].value == DatumGetObjectId(d))
			return seen[i].label;
	label = SPI_getvalue(tup, desc, attno);
	if (nseen < lengthof(seen) && strlen(label) < NAMEDATALEN)
	{
		seen[nseen].value = DatumGetObjectId(d);
		strlcpy(seen[nseen].label, label, NAMEDATALEN);
		nseen++;
	}
	return label;
}

static const char *
stage_text(HeapTuple tup, TupleDesc desc)
{
	int			attno = account_attno(desc, "stage");
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, desc, &isnull);

	if (isnull)
		return NULL;
	return stage_label(d, tup, desc, attno);
}

static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The old and the new row of an UPDATE, each taken apart once. */
typedef struct RowPair
{
	HeapTuple	a,
				b;
	TupleDesc	desc;
	Datum	   *av,
			   *bv;
	bool	   *an,
			   *bn;
} RowPair;

static void
row_pair(RowPair *p, HeapTuple a, HeapTuple b, TupleDesc desc)
{
	p->a = a;
	p->b = b;
	p->desc = desc;
	p->av = palloc(sizeof(Datum) * desc->natts);
	p->bv = palloc(sizeof(Datum) * desc->natts);
	p->an = palloc(sizeof(bool) * desc->natts);
	p->bn = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(a, desc, p->av, p->an);
	heap_deform_tuple(b, desc, p->bv, p->bn);
}

/*
 * Is a column the same in both rows? Equal bytes answer at once; otherwise
 * (a value stored differently, such as compressed) the text forms decide.
 */
static bool
same_column(RowPair *p, const char *column)
{
	int			attno = account_attno(p->desc, column);
	Form_pg_attribute att = TupleDescAttr(p->desc, attno - 1);

	if (p->an[attno - 1] || p->bn[attno - 1])
		return p->an[attno - 1] == p->bn[attno - 1];
	if (datumIsEqual(p->av[attno - 1], p->bv[attno - 1], att->attbyval, att->attlen))
		return true;
	return same_text(SPI_getvalue(p->a, p->desc, attno), SPI_getvalue(p->b, p->desc, attno));
}

static bool
all_same(RowPair *p, const char *const *columns)
{
	for (int i = 0; columns[i] != NULL; i++)
		if (!same_column(p, columns[i]))
			return false;
	return true;
}

static bool
is_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/* ---- one move ---- */

typedef struct Move
{
	int64		account;
	int64		dept;
	const char *platform;
	const char *from;
	const char *to;
	char	   *who;
	TimestampTz at;
	int			enforced;		/* -1 not asked yet, else smam.enforced() */
	StringInfoData waived;
	const char *office;			/* the office the mover held */
	char	   *submission;		/* id of the submission used up, as text */
} Move;

static bool
holds(Move *m, const char *office, bool government_wide)
{
	return smam_role_holds_office(m->who, office, government_wide, m->dept, m->at);
}

/*
 * A refusal of who may act, to a role that held one of the offices and
 * holds it no more, says so (its term, or its designation, ended) and what
 * to do, instead of what a stranger is told (smam.lapsed_office()).
 */
static void
lapsed_explanation(const char *who, const char *const *offices, int64 dept, TimestampTz at,
				   char **detail, const char **hint)
{
	SPI_connect();
	for (int i = 0; offices[i] != NULL; i++)
	{
		bool		entity = strcmp(offices[i], "head_of_communications") != 0 &&
			strcmp(offices[i], "department_staff") != 0 && strcmp(offices[i], "deputy_head") != 0;
		Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID};
		Datum		values[4] = {CStringGetTextDatum(who), CStringGetTextDatum(offices[i]),
		Int64GetDatum(dept), TimestampTzGetDatum(at)};
		char		nulls[4] = {' ', ' ', entity ? 'n' : ' ', ' '};

		smam_spi_privileged("SELECT l.detail, l.hint FROM smam.lapsed_office($1::pg_catalog.name,"
							" $2::smam.office, $3, $4) l",
							4, types, values, nulls, true, 1);
		if (SPI_processed == 1)
		{
			MemoryContext old = MemoryContextSwitchTo(CurTransactionContext);

			*detail = psprintf("%s %s", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
							   *detail);
			*hint = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
			MemoryContextSwitchTo(old);
			break;
		}
	}
	SPI_finish();
}

/*
 * Refuse unless the mover holds one of the offices (NULL-terminated list;
 * head_of_communications also admits a designate). Always enforced.
 */
static void
require_mover(Move *m, const char *requirement, const char *const *offices)
{
	StringInfoData names;

	initStringInfo(&names);
	for (int i = 0; offices[i] != NULL; i++)
	{
		bool		hoc = strcmp(offices[i], "head_of_communications") == 0;
		bool		entity = !hoc;

		if (holds(m, offices[i], entity))
		{
			m->office = (hoc && holds(m, "designate", false)) ? "designate" : offices[i];
			return;
		}
		if (hoc)
			appendStringInfo(&names, "%shead_of_communications (or designate) of department %lld",
							 i > 0 ? " or " : "", (long long) m->dept);
		else
			appendStringInfo(&names, "%s%s", i > 0 ? " or " : "", offices[i]);
	}
	{
		char	   *detail = smam_format("This move is made by the office %s, held at the moment of the move.",
										 names.data);
		const char *hint = "Ask a holder of that office to make the move, or an administrator to appoint you.";

		lapsed_explanation(m->who, offices, m->dept, m->at, &detail, &hint);
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, requirement,
					smam_format("role \"%s\" may not move account %lld from %s to %s",
								m->who, (long long) m->account, m->from, m->to),
					detail, hint);
	}
}

/*
 * While smam.move_problems() tries a move, the missing prerequisites are
 * gathered here instead of refused one at a time, so that the trial says
 * every one of them. Only that C function sets this, around a move it makes
 * in a subtransaction it always rolls back.
 */
typedef struct Problem
{
	char	   *requirement;
	char	   *message;
	char	   *detail;
} Problem;

static bool collecting = false;
static List *collected = NIL;
static MemoryContext collect_cxt = NULL;
static SubTransactionId collect_subid = InvalidSubTransactionId;

/*
 * Gathering never outlives the trial's subtransaction, whatever ends it:
 * outside it, a missing prerequisite is refused again.
 */
static void
collect_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
						 void *arg)
{
	if (collecting && mySubid == collect_subid &&
		(event == SUBXACT_EVENT_ABORT_SUB || event == SUBXACT_EVENT_COMMIT_SUB))
		collecting = false;
}

static void
collect_xact_callback(XactEvent event, void *arg)
{
	collecting = false;
}

/* A prerequisite is missing: refuse, or record it when not enforced. */
static void
unmet(Move *m, const char *requirement, const char *message,
	  const char *detail, const char *hint)
{
	if (m->enforced < 0)
	{
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		values[1] = {TimestampTzGetDatum(m->at)};

		m->enforced = query_bool("SELECT smam.enforced($1)", 1, types, values) ? 1 : 0;
	}
	if (m->enforced && collecting)
	{
		MemoryContext old = MemoryContextSwitchTo(collect_cxt);
		Problem    *p = palloc(sizeof(Problem));

		p->requirement = pstrdup(requirement);
		p->message = pstrdup(message);
		p->detail = detail ? pstrdup(detail) : NULL;
		collected = lappend(collected, p);
		MemoryContextSwitchTo(old);
		return;
	}
	if (m->enforced)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, requirement,
					message, detail, hint);
	appendStringInfo(&m->waived, "%s%s: %s", m->waived.len > 0 ? "; " : "",
					 requirement, message);
}

static void
guard_strategy(Move *m)
{
	if (!smam_department_has_strategy(m->dept))
		unmet(m, "6.1.1",
			  smam_format("department %lld has no approved social media strategy in force",
						  (long long) m->dept),
			  "An account is created only under the department's overarching social media strategy, approved by the head of communications.",
			  "Approve the departmental strategy with smam.approve_strategy().");
}

static void
guard_plan(Move *m, HeapTuple tup, TupleDesc desc)
{
	char	   *plan = col_text(tup, desc, "plan_id");
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char	   *status,
			   *missing,
			   *pia;

	if (plan == NULL)
	{
		unmet(m, "6.1.2", smam_format("account %lld has no implementation plan", (long long) m->account),
			  "The head of communications approves accounts based on implementation plans.",
			  "Set the account's plan_id to an approved implementation plan.");
		return;
	}
	values[0] = Int64GetDatum(pg_strtoint64(plan));
	values[1] = CStringGetTextDatum(m->platform);
	values[2] = TimestampTzGetDatum(m->at);
	smam_spi_privileged("SELECT p.status::pg_catalog.text,"
						"       pg_catalog.array_to_string(smam.plan_missing_unchecked(p.id), ', '),"
						"       smam.plan_pia_problem_unchecked(p.id, $2, smam.today($3))"
						"  FROM smam.implementation_plan p WHERE p.id OPERATOR(pg_catalog.=) $1"
						"   FOR SHARE OF p",
						3, types, values, NULL, false, 0);
	if (SPI_processed == 0)
		elog(ERROR, "implementation plan %s of account %lld is missing", plan, (long long) m->account);
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	missing = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	pia = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

	if (strcmp(status, "approved") != 0)
		unmet(m, "6.1.2", smam_format("implementation plan %s is not approved", plan),
			  smam_format("The plan is %s.", status),
			  "Ask the head of communications or a designate to approve it with smam.approve_plan().");
	if (!is_blank(missing))
		unmet(m, "6.1.2", smam_format("implementation plan %s is incomplete", plan),
			  smam_format("It lacks: %s.", missing),
			  "Complete the plan with smam.revise() and smam.plan_pia(), then have it approved again.");
	if (pia != NULL)
		unmet(m, "6.1.2", smam_format("implementation plan %s has no privacy impact assessment for %s",
									  plan, m->platform),
			  pia,
			  "Record the plan's completed PIA, or its reliance on a current model PIA, with smam.plan_pia().");
}

static void
guard_pre_reviewed(Move *m)
{
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2] = {CStringGetTextDatum(m->platform), TimestampTzGetDatum(m->at)};
	char	   *gaps = query_text("SELECT pg_catalog.array_to_string(smam.pre_review_gaps($1, smam.today($2)), '; ')",
								  2, types, values, NULL);

	if (!is_blank(gaps))
		unmet(m, "6.2.3", smam_format("platform %s is not pre-reviewed", m->platform),
			  smam_format("Not accepted and current: %s.", gaps),
			  "Ask the entity to record the missing reviews with smam.record_platform_review().");
}

/*
 * An accepted submission of the kind not used up yet: returns its id (and
 * its configuration in *config), or NULL after unmet().
 */
static char *
guard_submission(Move *m, const char *kind, char **config)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(m->account), CStringGetTextDatum(kind)};

	smam_spi_privileged("SELECT s.id, s.configuration::pg_catalog.text FROM smam.submission s"
						" WHERE s.account_id OPERATOR(pg_catalog.=) $1"
						"   AND s.kind OPERATOR(pg_catalog.=) $2::smam.submission_kind"
						"   AND s.status OPERATOR(pg_catalog.=) 'accepted'::smam.review_status"
						"   AND s.consumed_at IS NULL"
						" ORDER BY s.decided_at DESC, s.id DESC LIMIT 1",
						2, types, values, NULL, true, 1);
	if (SPI_processed > 0)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (config)
			*config = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		return id;
	}
	unmet(m, "6.1.3",
		  smam_format("account %lld has no accepted %s submission", (long long) m->account, kind),
		  smam_format("The entity reviews (6.2.1) a %s submission from the head of communications before it acts; none is accepted and unused.",
					  kind),
		  smam_format("The department's head of communications (or a designate) submits it with smam.submit(%lld, '%s'); the entity reviews it with smam.review_submission().",
					  (long long) m->account, kind));
	return NULL;
}

static void
consume_submission(Move *m, const char *id)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(pg_strtoint64(id)), TimestampTzGetDatum(m->at),
	CStringGetTextDatum(m->to)};

	smam_spi_privileged("UPDATE smam.submission SET consumed_at = $2, consumed_stage = $3::smam.stage"
						" WHERE id OPERATOR(pg_catalog.=) $1",
						3, types, values, NULL, false, 0);

	/*
	 * A configuration applied supersedes every accepted configuration of the
	 * account the entity decided before it: none of them can be applied
	 * afterwards to bring an older configuration back.
	 */
	smam_spi_privileged("UPDATE smam.submission o SET consumed_at = $2, superseded_by = $1"
						"  FROM smam.submission n"
						" WHERE n.id OPERATOR(pg_catalog.=) $1"
						"   AND n.kind OPERATOR(pg_catalog.=) 'configuration'::smam.submission_kind"
						"   AND o.account_id OPERATOR(pg_catalog.=) n.account_id"
						"   AND o.kind OPERATOR(pg_catalog.=) 'configuration'::smam.submission_kind"
						"   AND o.status OPERATOR(pg_catalog.=) 'accepted'::smam.review_status"
						"   AND o.consumed_at IS NULL AND o.id OPERATOR(pg_catalog.<>) n.id"
						"   AND o.decided_at OPERATOR(pg_catalog.<=) n.decided_at",
						3, types, values, NULL, false, 0);
	m->submission = (char *) id;
}

/*
 * The accepted configuration submission, neither used nor superseded, that
 * proposes exactly the row's configuration: its settings, and its names and
 * official language where it gives them (where it does not, they must be
 * unchanged). Returns its id, or NULL after unmet().
 */
static char *
guard_configuration_submission(Move *m, HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	const char *cols[3] = {"name_en", "name_fr", "official_language"};
	Oid			types[8] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(m->account);
	values[1] = CStringGetTextDatum(col_text(tup, desc, "configuration"));
	for (int i = 0; i < 3; i++)
	{
		char	   *now = col_text(tup, desc, cols[i]);
		char	   *before = col_text(oldtup, desc, cols[i]);

		if (now)
			values[2 + 2 * i] = CStringGetTextDatum(now);
		else
			nulls[2 + 2 * i] = 'n';
		if (before)
			values[3 + 2 * i] = CStringGetTextDatum(before);
		else
			nulls[3 + 2 * i] = 'n';
	}
	smam_spi_privileged("SELECT s.id FROM smam.submission s"
						" WHERE s.account_id OPERATOR(pg_catalog.=) $1"
						"   AND s.kind OPERATOR(pg_catalog.=) 'configuration'::smam.submission_kind"
						"   AND s.status OPERATOR(pg_catalog.=) 'accepted'::smam.review_status"
						"   AND s.consumed_at IS NULL"
						"   AND s.configuration OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb"
						"   AND CASE WHEN s.name_en IS NULL THEN $3 IS NOT DISTINCT FROM $4"
						"            ELSE s.name_en OPERATOR(pg_catalog.=) $3 END"
						"   AND CASE WHEN s.name_fr IS NULL THEN $5 IS NOT DISTINCT FROM $6"
						"            ELSE s.name_fr OPERATOR(pg_catalog.=) $5 END"
						"   AND CASE WHEN s.official_language IS NULL THEN $7 IS NOT DISTINCT FROM $8"
						"            ELSE s.official_language::pg_catalog.text OPERATOR(pg_catalog.=) $7 END"
						" ORDER BY s.decided_at DESC, s.id DESC LIMIT 1",
						8, types, values, nulls, true, 1);
	if (SPI_processed > 0)
		return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	unmet(m, "6.1.3",
		  smam_format("the configuration of account %lld is not one the entity accepted",
					  (long long) m->account),
		  "From creation on, every configuration an account carries is a configuration submission of the head of communications that the entity accepted (6.2.1), applied exactly and once; no accepted, unused submission proposes this one, or it was superseded by one applied since.",
		  smam_format("The head of communications submits it with smam.submit(%lld, 'configuration', note, configuration); once the entity accepts it, the entity applies it with smam.configure_account().",
					  (long long) m->account));
	return NULL;
}

/* The specifications a row breaks, as one line, or NULL. */
static char *
specification_problems(HeapTuple tup, TupleDesc desc, const char *platform)
{
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	const char *cols[4] = {"configuration", "official_language", "name_en", "name_fr"};

	values[0] = CStringGetTextDatum(platform);
	for (int i = 0; i < 4; i++)
	{
		char	   *v = col_text(tup, desc, cols[i]);

		if (v == NULL)
			nulls[i + 1] = 'n';
		else
			values[i + 1] = CStringGetTextDatum(v);
	}
	return query_text("SELECT pg_catalog.string_agg(c.specification OPERATOR(pg_catalog.||) ': '"
					  "         OPERATOR(pg_catalog.||) c.problem, ' ' ORDER BY c.specification)"
					  "  FROM smam.check_configuration($1, $2::pg_catalog.jsonb, $3::smam.official_language, $4, $5) c",
					  5, types, values, nulls);
}

static void
guard_specifications(Move *m, HeapTuple tup, TupleDesc desc)
{
	char	   *problems = specification_problems(tup, desc, m->platform);

	if (problems != NULL)
		unmet(m, "6.1.5",
			  smam_format("the configuration of account %lld does not meet the technical specifications",
						  (long long) m->account),
			  problems,
			  smam_format("smam.check_configuration() lists the problems. The head of communications submits a corrected configuration with smam.submit(%lld, 'configuration', note, configuration), and the entity applies it once accepted.",
						  (long long) m->account));
}

static void
record_move(Move *m, const char *from, const char *note, bool onboarded)
{
	Oid			types[10] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(m->account);
	values[1] = Int64GetDatum(m->dept);
	if (from)
		values[2] = CStringGetTextDatum(from);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(m->to);
	values[4] = CStringGetTextDatum(m->who);
	if (m->office)
		values[5] = CStringGetTextDatum(m->office);
	else
		nulls[5] = 'n';
	values[6] = TimestampTzGetDatum(m->at);
	if (note)
		values[7] = CStringGetTextDatum(note);
	else
		nulls[7] = 'n';
	if (m->submission)
		values[8] = Int64GetDatum(pg_strtoint64(m->submission));
	else
		nulls[8] = 'n';
	if (m->waived.len > 0)
		values[9] = CStringGetTextDatum(m->waived.data);
	else
		nulls[9] = 'n';
	smam_write_record(onboarded ?
					  "INSERT INTO smam.stage_history (account_id, department_id, from_stage, to_stage, moved_by,"
					  " office, moved_at, note, submission_id, waived, onboarded) VALUES ($1, $2, $3::smam.stage,"
					  " $4::smam.stage, $5, $6::smam.office, $7, $8, $9, $10, true)" :
					  "INSERT INTO smam.stage_history (account_id, department_id, from_stage, to_stage, moved_by,"
					  " office, moved_at, note, submission_id, waived) VALUES ($1, $2, $3::smam.stage,"
					  " $4::smam.stage, $5, $6::smam.office, $7, $8, $9, $10)",
					  10, types, values, nulls);
}

/*
 * 6.1.2: the head of communications (or a designate) approves the account
 * by this move; the approval is recorded, bound to the plan and its version
 * and to the exact configuration approved. An account without a plan (moved
 * on while enforcement was off) is approved on none, and the approval is not
 * recorded: the 6.1.2 finding for its missing plan says so.
 */
static void
record_approval(Move *m, HeapTuple tup, TupleDesc desc)
{
	char	   *plan = col_text(tup, desc, "plan_id");
	Oid			types[10] = {INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char *cols[4] = {"configuration", "name_en", "name_fr", "official_language"};

	if (plan == NULL)
		return;
	values[0] = Int64GetDatum(m->account);
	values[1] = Int64GetDatum(m->dept);
	values[2] = Int64GetDatum(pg_strtoint64(plan));
	for (int i = 0; i < 4; i++)
	{
		char	   *v = col_text(tup, desc, cols[i]);

		if (v)
			values[3 + i] = CStringGetTextDatum(v);
		else
			nulls[3 + i] = 'n';
	}
	values[7] = CStringGetTextDatum(m->who);
	values[8] = CStringGetTextDatum(m->office ? m->office : "head_of_communications");
	values[9] = TimestampTzGetDatum(m->at);
	smam_write_record("INSERT INTO smam.account_approval (account_id, department_id, plan_id, plan_version,"
					  " configuration, name_en, name_fr, official_language, configuration_sha256,"
					  " approved_by, office, approved_at, note)"
					  " SELECT $1, $2, p.id, p.version, $4::pg_catalog.jsonb, $5, $6, $7::smam.official_language,"
					  "        smam.account_configuration_sha256($4::pg_catalog.jsonb, $5, $6, $7::smam.official_language),"
					  "        $8, $9::smam.office, $10, 'approved by the move to implementation'"
					  "   FROM smam.implementation_plan p WHERE p.id OPERATOR(pg_catalog.=) $3",
					  10, types, values, nulls);
}

/* ---- the URL, checked and put in canonical form ---- */

static HeapTuple
check_url(HeapTuple tup, TupleDesc desc, const char *platform)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *url = col_text(tup, desc, "url");
	char	   *problem;
	int			cols[3];
	Datum		newvals[3];
	bool		newnulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(url ? url : "");
	values[1] = CStringGetTextDatum(platform);
	smam_spi_privileged("SELECT c.canonical_url, c.url_key, c.handle, c.problem"
						"  FROM smam.check_account_url($1, $2) c",
						2, types, values, NULL, true, 1);
	problem = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	if (problem != NULL)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.2.4",
					smam_format("invalid account URL \"%s\"", url ? url : ""),
					problem,
					"Give the address of the account's own page on its platform.");
	cols[0] = SPI_fnumber(desc, "url");
	cols[1] = SPI_fnumber(desc, "url_key");
	cols[2] = SPI_fnumber(desc, "handle");
	for (int i = 0; i < 3; i++)
		newvals[i] = CStringGetTextDatum(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1));
	return heap_modify_tuple_by_cols(tup, desc, 3, cols, newvals, newnulls);
}

static HeapTuple
set_columns(HeapTuple tup, TupleDesc desc, int n, const char **names, Datum *vals, bool *nulls)
{
	int			cols[4];

	Assert(n <= 4);
	for (int i = 0; i < n; i++)
		cols[i] = SPI_fnumber(desc, names[i]);
	return heap_modify_tuple_by_cols(tup, desc, n, cols, vals, nulls);
}

/*
 * The row with a configuration submission applied: its settings, and its
 * names and official language where it gives them.
 */
static HeapTuple
apply_submission(HeapTuple tup, TupleDesc desc, const char *id, const char *config)
{
	const char *names[4] = {"configuration", "name_en", "name_fr", "official_language"};
	Datum		vals[4];
	bool		nulls[4] = {false, false, false, false};
	int			n = 1;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(pg_strtoint64(id))};

	vals[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(config));
	smam_spi_privileged("SELECT s.name_en, s.name_fr, s.official_language FROM smam.submission s"
						" WHERE s.id OPERATOR(pg_catalog.=) $1",
						1, types, values, NULL, true, 1);
	for (int i = 0; i < 3 && SPI_processed == 1; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);

		if (isnull)
			continue;
		names[n] = names[i + 1];
		vals[n] = d;
		nulls[n] = false;
		n++;
	}
	return set_columns(tup, desc, n, names, vals, nulls);
}

static void
init_move(Move *m, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	memset(m, 0, sizeof(Move));
	m->account = DatumGetInt64(heap_getattr(tup, account_attno(desc, "id"), desc, &isnull));
	m->dept = DatumGetInt64(heap_getattr(tup, account_attno(desc, "department_id"), desc, &isnull));
	m->platform = col_text(tup, desc, "platform");
	m->who = GetUserNameFromId(smam_acting_role(), false);
	m->at = GetCurrentTransactionStartTimestamp();
	initStringInfo(&m->waived);
	m->enforced = -1;			/* asked only when a prerequisite is missing */
}

/*
 * The plan a planned account is given: one of its department's (another
 * department's is refused as one that does not exist), and one that covers
 * the account's platform with a PIA, so that the plan's gap shows when the
 * account is planned, not at the entity's move. Whether the plan is
 * approved, complete and its PIA current is the move's question.
 */
static void
check_planned_plan(Move *m, const char *plan)
{
	Oid			types[3] = {INT8OID, INT8OID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(pg_strtoint64(plan)), Int64GetDatum(m->dept),
	CStringGetTextDatum(m->platform)};
	char	   *covers = query_text("SELECT EXISTS (SELECT 1 FROM smam.plan_platform pp"
									"  WHERE pp.plan_id OPERATOR(pg_catalog.=) p.id"
									"    AND pp.platform OPERATOR(pg_catalog.=) $3)"
									"  FROM smam.implementation_plan p"
									" WHERE p.id OPERATOR(pg_catalog.=) $1 AND p.department_id OPERATOR(pg_catalog.=) $2",
									3, types, values, NULL);

	if (covers == NULL)
		smam_refuse(ERRCODE_FOREIGN_KEY_VIOLATION, "6.1.2",
					smam_format("implementation plan %s is not a plan of department %lld", plan,
								(long long) m->dept),
					"An account is planned under an implementation plan of its own department.",
					"Name one of the department's implementation plans.");
	if (strcmp(covers, "t") != 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("implementation plan %s has no privacy impact assessment for %s", plan,
								m->platform),
					"An implementation plan holds a completed Privacy Impact Assessment, or reliance on the entity's model PIA, for the planned usage on each platform.",
					smam_format("Record the plan's PIA for %s with smam.plan_pia(%s, '%s'), then plan the account.",
								m->platform, plan, m->platform));
}

/* ---- INSERT ---- */

static HeapTuple
guard_insert(HeapTuple tup, TupleDesc desc)
{
	Move		m;
	char	   *stage = col_text(tup, desc, "stage");
	bool		onboarded = strcmp(col_text(tup, desc, "onboarded"), "t") == 0;
	bool		armed = onboarding_armed;

	onboarding_armed = false;	/* one INSERT only */
	init_move(&m, tup, desc);
	m.to = stage;

	if (armed)
	{
		if (!onboarded || strcmp(stage, "implementation") != 0)
			elog(ERROR, "the onboarding path inserts an onboarded account in implementation");
		tup = check_url(tup, desc, m.platform);
		m.office = holds(&m, "entity_official", true) ? "entity_official" :
			holds(&m, "administrator", true) ? "administrator" : NULL;
		record_move(&m, NULL, col_text(tup, desc, "onboarded_reason"), true);
		return tup;
	}

	if (onboarded)
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
					"an account is onboarded only by smam.onboard_account()",
					"Accounts that existed before smam enter through the one documented onboarding path.",
					"Call smam.onboard_account() as the entity's official or an administrator.");
	if (strcmp(stage, "planning") != 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("a new account starts in planning, not in %s", stage),
					"The life cycle of an official account begins with planning.",
					"Plan the account with smam.plan_account(), or onboard an existing one with smam.onboard_account().");
	if (col_text(tup, desc, "listed_on") != NULL)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.2.4",
					"a planned account is not listed yet",
					"An account is listed in the index when it enters implementation.",
					"Leave listed_on empty.");
	if (!(holds(&m, "head_of_communications", false) || holds(&m, "department_staff", false)))
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
					smam_format("role \"%s\" may not plan an account for department %lld",
								m.who, (long long) m.dept),
					"Planning an account requires the office department_staff, head_of_communications or designate of the department, held now.",
					"Ask the department's staff or head of communications.");
	if (col_text(tup, desc, "plan_id") != NULL)
		check_planned_plan(&m, col_text(tup, desc, "plan_id"));
	tup = check_url(tup, desc, m.platform);
	m.office = holds(&m, "head_of_communications", false) ?
		(holds(&m, "designate", false) ? "designate" : "head_of_communications") : "department_staff";
	record_move(&m, NULL, col_text(tup, desc, "stage_note"), false);
	return tup;
}

/* ---- UPDATE ---- */

static const char *const immutable_columns[] = {
	"id", "department_id", "platform", "onboarded", "onboarded_reason", "created_by",
	"created_at", "stage_changed_at", "listed_on", "plan_attached_at", NULL
};

/* What the account is, settled in planning. */
static const char *const settled_columns[] = {"url", "url_key", "handle", "plan_id", NULL};

/* Its configuration: names, language and settings. */
static const char *const configuration_columns[] = {
	"configuration", "name_en", "name_fr", "official_language", NULL
};

static const char *const *const watched_columns[] = {
	immutable_columns, settled_columns, configuration_columns, NULL
};

/*
 * Does an update leave alone everything guard_update() reads? Not moving,
 * not a disposed account, and every column of the lists above stored with
 * the same bytes. guard_update() returns such a row as it is, without a
 * check to make; this answers without setting up its checks, for the edits
 * that make most of the updates (a purpose, a note). A value stored
 * differently (compressed) answers no, and the full guard decides. The
 * columns' numbers are looked up once per descriptor.
 */
static bool
update_unwatched(HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	static TupleDesc watched_desc = NULL;
	static int	watched[64];
	static int	nwatched = 0;
	static int	stage;
	Datum	   *ov = palloc(sizeof(Datum) * desc->natts);
	Datum	   *nv = palloc(sizeof(Datum) * desc->natts);
	bool	   *on = palloc(sizeof(bool) * desc->natts);
	bool	   *nn = palloc(sizeof(bool) * desc->natts);

	if (desc != watched_desc || desc != known_desc)
	{
		nwatched = 0;
		for (int l = 0; watched_columns[l] != NULL; l++)
			for (int i = 0; watched_columns[l][i] != NULL && nwatched < lengthof(watched); i++)
				watched[nwatched++] = account_attno(desc, watched_columns[l][i]) - 1;
		stage = account_attno(desc, "stage") - 1;
		watched_desc = desc;
	}
	heap_deform_tuple(oldtup, desc, ov, on);
	heap_deform_tuple(tup, desc, nv, nn);
	if (ov[stage] != nv[stage] ||
		strcmp(stage_label(ov[stage], oldtup, desc, stage + 1), "disposed") == 0)
		return false;
	for (int i = 0; i < nwatched; i++)
	{
		int			a = watched[i];
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (on[a] != nn[a] || (!on[a] && !datumIsEqual(ov[a], nv[a], att->attbyval, att->attlen)))
			return false;
	}
	return true;
}

static const char *const entity[] = {"entity_official", NULL};
static const char *const head[] = {"head_of_communications", NULL};
static const char *const head_or_entity[] = {"head_of_communications", "entity_official", NULL};

static bool
arrow(const char *from, const char *to, const char *a, const char *b)
{
	return strcmp(from, a) == 0 && strcmp(to, b) == 0;
}

/*
 * Attaching an implementation plan to an account past planning that has
 * none (6.1.2): onboarded accounts come without one, and plan_id is
 * otherwise settled in planning. Always enforced, whatever smam.enforced()
 * says: the attachment is the remedy for the missing plan, and a plan that
 * does not qualify remedies nothing. The head of communications (or
 * designate) of the account's department attaches an approved, complete
 * plan of that department with a PIA for the account's platform; smam
 * records when (plan_attached_at), so that the compliance of an earlier
 * moment still sees the account without a plan.
 */
static HeapTuple
guard_plan_attachment(Move *m, HeapTuple tup, TupleDesc desc, bool moving)
{
	char	   *plan = col_text(tup, desc, "plan_id");
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char	   *status,
			   *missing,
			   *pia;
	bool		covers;
	const char *names[1] = {"plan_attached_at"};
	Datum		vals[1];
	bool		nulls[1] = {false};

	if (moving)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("attach the plan and move account %lld separately", (long long) m->account),
					NULL, "Attach the plan with smam.attach_implementation_plan(), then make the move.");
	if (strcmp(m->from, "disposition") == 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("account %lld is being disposed of; no plan is attached to it",
								(long long) m->account),
					"An implementation plan is attached to an account that is still to be managed.",
					"Finish the disposition, or plan a new account under the plan.");
	if (!holds(m, "head_of_communications", false))
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
					smam_format("role \"%s\" may not attach an implementation plan to account %lld",
								m->who, (long long) m->account),
					smam_format("The head of communications (or designate) of department %lld approves accounts based on implementation plans, held at the moment of the change.",
								(long long) m->dept),
					"Ask the department's head of communications or a designate.");

	values[0] = Int64GetDatum(pg_strtoint64(plan));
	values[1] = CStringGetTextDatum(m->platform);
	values[2] = TimestampTzGetDatum(m->at);
	/* FOR SHARE: an edit voiding the approval waits for this, or is seen. */
	smam_spi_privileged("SELECT p.department_id::pg_catalog.text, p.status::pg_catalog.text,"
						"       pg_catalog.array_to_string(smam.plan_missing_unchecked(p.id), ', '),"
						"       smam.plan_pia_problem_unchecked(p.id, $2, smam.today($3)),"
						"       EXISTS (SELECT 1 FROM smam.plan_platform pp WHERE pp.plan_id OPERATOR(pg_catalog.=) p.id"
						"                  AND pp.platform OPERATOR(pg_catalog.=) $2)"
						"  FROM smam.implementation_plan p WHERE p.id OPERATOR(pg_catalog.=) $1"
						"   FOR SHARE OF p",
						3, types, values, NULL, false, 0);
	/*
	 * A plan that does not exist and another department's are refused
	 * alike: the mover learns nothing of other departments' plans.
	 */
	if (SPI_processed == 0 ||
		pg_strtoint64(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) != m->dept)
		smam_refuse(ERRCODE_FOREIGN_KEY_VIOLATION, "6.1.2",
					smam_format("implementation plan %s is not a plan of department %lld", plan,
								(long long) m->dept),
					"An account is approved on an implementation plan of its own department.",
					"Name one of the department's implementation plans (smam.implementation_plan).");
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	missing = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	pia = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	covers = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5), "t") == 0;

	if (strcmp(status, "approved") != 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("implementation plan %s is not approved", plan),
					smam_format("The plan is %s; accounts are approved based on approved implementation plans.", status),
					"Ask the head of communications or a designate to approve it with smam.approve_plan().");
	if (!is_blank(missing))
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("implementation plan %s is incomplete", plan),
					smam_format("It lacks: %s.", missing),
					"Complete the plan with smam.revise() and smam.plan_pia(), then have it approved again.");
	if (!covers)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("implementation plan %s does not cover platform %s", plan, m->platform),
					pia,
					"Add the platform to the plan with its PIA (smam.plan_pia()), have the plan approved again, then attach it.");
	if (pia != NULL)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("implementation plan %s has no current privacy impact assessment for %s",
								plan, m->platform),
					pia,
					"Record the plan's completed PIA, or its reliance on a current model PIA, with smam.plan_pia().");

	vals[0] = TimestampTzGetDatum(m->at);
	return set_columns(tup, desc, 1, names, vals, nulls);
}

/*
 * Who may change an account at all: the entity's official (any account),
 * the head of communications or a designate, or the staff of the account's
 * department, each holding the office at the moment of the change. The
 * guards then decide what each of them may change in each stage; a move is
 * authorized instead by the office that makes it (require_mover()).
 * Everyone else is refused without a word about the account's state.
 */
/*
 * The last answer, for the statement that changes many rows of one
 * department as one role. Any relcache invalidation forgets it
 * (smam_lifecycle_relcache_inval): the audit trigger sends one for
 * smam.appointment and smam.principal whenever either changes. Another
 * session's change reaches this backend only when it reads the shared
 * invalidation queue, which a statement run from a cached plan (PREPARE,
 * a driver's named statement, PL/pgSQL) may not do before this trigger:
 * the queue is read here first (cheap when it is empty). Its own changes
 * arrive at the next command.
 */
static struct
{
	bool		valid;
	Oid			role;
	int64		dept;
	TimestampTz at;
	bool		editor;
}			last_edit;

static void
last_edit_forget(void)
{
	last_edit.valid = false;
}

static void
authorize_edit(int64 account, int64 dept, const char *who, TimestampTz at)
{
	Oid			role = smam_acting_role();

	AcceptInvalidationMessages();
	if (!(last_edit.valid && last_edit.role == role && last_edit.dept == dept && last_edit.at == at))
	{
		last_edit.valid = false;
		last_edit.editor = smam_account_editor_office(who, dept, at) != NULL;
		last_edit.role = role;
		last_edit.dept = dept;
		last_edit.at = at;
		last_edit.valid = true;
	}
	if (!last_edit.editor)
	{
		static const char *const editors[] = {"head_of_communications", "department_staff", "entity_official", NULL};
		char	   *detail = pstrdup("An account is changed by the staff, the head of communications or a designate of its department, or by the entity's designated senior official, holding the office at the moment of the change.");
		const char *hint = "Ask a holder of one of those offices, or an administrator to appoint you.";

		lapsed_explanation(who, editors, dept, at, &detail, &hint);
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
					smam_format("role \"%s\" may not change account %lld", who, (long long) account),
					detail, hint);
	}
}

/* The office that makes a move, and the requirement it enforces (NULL: no such move). */
static const char *const *
mover_of(const char *from, const char *to, const char **requirement)
{
	static const struct
	{
		const char *from;
		const char *to;
		const char *requirement;
		const char *const *offices;
	}			moves[] = {
		{"planning", "creation", "6.2.2", entity},
		{"creation", "configuration", "6.2.2", entity},
		{"configuration", "implementation", "6.1.2", head},
		{"implementation", "evaluation", "6.1.2", head},
		{"evaluation", "implementation", "6.1.2", head},
		{"implementation", "disposition", "6.2.2", entity},
		{"evaluation", "disposition", "6.2.2", entity},
		{"disposition", "disposed", "6.2.2", entity},
		{"planning", "disposed", "6.1.2", head_or_entity},
	};

	for (int i = 0; i < lengthof(moves); i++)
		if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0)
		{
			*requirement = moves[i].requirement;
			return moves[i].offices;
		}
	return NULL;
}

/*
 * The one UPDATE smam_reassign_account() makes: that account, to that
 * department, every other column as it was. Anything else while armed is a
 * bug, not a user's error.
 */
static HeapTuple
guard_reassignment(HeapTuple oldtup, HeapTuple tup, TupleDesc desc, int64 account)
{
	RowPair		rows;
	int64		want_account = reassign_account;
	int64		want_department = reassign_department;
	bool		keeps_plan = reassign_keeps_plan;
	bool		isnull;

	reassign_account = 0;		/* one UPDATE only */
	reassign_department = 0;
	if (account != want_account ||
		DatumGetInt64(heap_getattr(tup, account_attno(desc, "department_id"), desc, &isnull)) != want_department)
		elog(ERROR, "the reassignment path updates account %lld to department %lld only",
			 (long long) want_account, (long long) want_department);
	row_pair(&rows, oldtup, tup, desc);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), "department_id") == 0)
			continue;
		/* Moved alone, it leaves its old department's plan (6.1.2). */
		if (!keeps_plan && (strcmp(NameStr(att->attname), "plan_id") == 0 ||
							strcmp(NameStr(att->attname), "plan_attached_at") == 0))
		{
			if (!heap_attisnull(tup, i + 1, desc))
				elog(ERROR, "an account moved alone leaves its plan");
			continue;
		}
		if (!same_column(&rows, NameStr(att->attname)))
			elog(ERROR, "the reassignment path changes only the department of account %lld, not %s",
				 (long long) account, NameStr(att->attname));
	}
	return tup;
}

static HeapTuple
guard_update(HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	Move		m;
	const char *from = stage_text(oldtup, desc);
	const char *to = stage_text(tup, desc);
	bool		moving = strcmp(from, to) != 0;
	bool		live = strcmp(from, "implementation") == 0 || strcmp(from, "evaluation") == 0;
	bool		reconfigured;
	char	   *config_submission = NULL;
	RowPair		rows;

	init_move(&m, tup, desc);
	m.from = from;
	m.to = to;

	if (reassign_account != 0)
		return guard_reassignment(oldtup, tup, desc, m.account);

	/*
	 * Authorization first: a move by the office that makes it; any other
	 * change was authorized before the trigger read anything else
	 * (smam_lifecycle_guard).
	 */
	if (moving)
	{
		const char *requirement;
		const char *const *offices = mover_of(from, to, &requirement);

		if (offices != NULL)
			require_mover(&m, requirement, offices);
		else
			authorize_edit(m.account, m.dept, m.who, m.at);
	}
	row_pair(&rows, oldtup, tup, desc);

	for (int i = 0; immutable_columns[i] != NULL; i++)
		if (!same_column(&rows, immutable_columns[i]))
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, NULL,
						smam_format("column %s of account %lld cannot be changed",
									immutable_columns[i], (long long) m.account),
						"An account keeps its department, platform and origin; smam sets the dates of its stages.",
						"Dispose of the account and plan a new one to change what it is.");

	if (strcmp(from, "disposed") == 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("account %lld has been disposed of", (long long) m.account),
					"The life cycle of a disposed account is over; it is kept for the record.",
					"Plan a new account if one is needed again.");

	/*
	 * What the account is: address and plan, settled in planning; the one
	 * exception is attaching a plan to an account that left planning without
	 * one (onboarded, or moved on while enforcement was off).
	 */
	if (strcmp(from, "planning") != 0 &&
		same_column(&rows, "url") && same_column(&rows, "url_key") && same_column(&rows, "handle") &&
		!same_column(&rows, "plan_id") &&
		col_text(oldtup, desc, "plan_id") == NULL && col_text(tup, desc, "plan_id") != NULL)
		tup = guard_plan_attachment(&m, tup, desc, moving);
	else if (!all_same(&rows, settled_columns))
	{
		if (strcmp(from, "planning") != 0)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
						smam_format("the address and plan of account %lld are settled once it leaves planning",
									(long long) m.account),
						smam_format("The account is in %s.", from),
						"Dispose of the account and plan a new one.");
		tup = check_url(tup, desc, m.platform);
		if (col_text(tup, desc, "plan_id") != NULL &&
			!same_text(col_text(tup, desc, "plan_id"), col_text(oldtup, desc, "plan_id")))
			check_planned_plan(&m, col_text(tup, desc, "plan_id"));
	}

	/*
	 * The configuration: names, language and settings. In planning it is the
	 * department's draft; from creation on, every configuration the account
	 * carries is an accepted configuration submission, applied exactly and
	 * used once (6.1.3, 6.2.1), by the entity while the account is created
	 * and configured (6.2.2); live, it must also meet the specifications.
	 */
	reconfigured = !all_same(&rows, configuration_columns);
	if (reconfigured && strcmp(from, "planning") != 0)
	{
		if (strcmp(from, "disposition") == 0)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
						smam_format("account %lld is being disposed of and cannot be reconfigured",
									(long long) m.account),
						"An account in disposition keeps the configuration it had.",
						"Finish the disposition, or plan a new account.");
		if (moving)
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
						smam_format("change the configuration and the stage of account %lld separately",
									(long long) m.account),
						"A move applies nothing of its own but the configuration submission it uses.",
						"Make the configuration change, then the move.");
		if (strcmp(from, "creation") == 0 || strcmp(from, "configuration") == 0)
		{
			Move		c = m;

			c.to = from;
			if (!holds(&c, "entity_official", true))
				smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.2.2",
							smam_format("role \"%s\" may not configure account %lld", m.who,
										(long long) m.account),
							"The entity configures official accounts, held at the moment of the change.",
							"Ask the entity's designated senior official.");
		}
		config_submission = guard_configuration_submission(&m, oldtup, tup, desc);
		if (live)
			guard_specifications(&m, tup, desc);
		if (config_submission != NULL)
			consume_submission(&m, config_submission);	/* used up in the stage it was applied in */
	}

	if (!moving)
		return tup;

	/* The arrows. */
	if (arrow(from, to, "planning", "creation"))
	{
		char	   *s;

		guard_strategy(&m);
		guard_plan(&m, tup, desc);
		guard_pre_reviewed(&m);
		s = guard_submission(&m, "creation", NULL);
		if (s)
			consume_submission(&m, s);
	}
	else if (arrow(from, to, "creation", "configuration"))
	{
		char	   *config = NULL;
		char	   *s;

		s = guard_submission(&m, "configuration", &config);
		if (s)
		{
			/* The entity configures the account as submitted and accepted. */
			tup = apply_submission(tup, desc, s, config);
			consume_submission(&m, s);
		}
	}
	else if (arrow(from, to, "configuration", "implementation"))
	{
		guard_specifications(&m, tup, desc);
		record_approval(&m, tup, desc);
	}
	else if (arrow(from, to, "implementation", "evaluation"))
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(m.account)};

		if (!query_bool("SELECT EXISTS (SELECT 1 FROM smam.evaluation e"
						" WHERE e.account_id OPERATOR(pg_catalog.=) $1 AND e.completed_at IS NULL)",
						1, types, values))
			unmet(&m, "6.1.2", smam_format("account %lld has no evaluation under way", (long long) m.account),
				  "An account enters evaluation when its evaluation starts.",
				  "Start it with smam.start_evaluation().");
	}
	else if (arrow(from, to, "evaluation", "implementation"))
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(m.account)};

		if (!query_bool("SELECT coalesce((SELECT e.completed_at IS NOT NULL FROM smam.evaluation e"
						" WHERE e.account_id OPERATOR(pg_catalog.=) $1"
						" ORDER BY e.started_at DESC, e.id DESC LIMIT 1), false)",
						1, types, values))
			unmet(&m, "6.1.2", smam_format("the evaluation of account %lld is not completed", (long long) m.account),
				  "An account returns to implementation when its evaluation is completed with its findings.",
				  "Complete it with smam.complete_evaluation().");
	}
	else if (arrow(from, to, "implementation", "disposition") ||
			 arrow(from, to, "evaluation", "disposition"))
	{
		char	   *s;

		s = guard_submission(&m, "disposition", NULL);
		if (s)
			consume_submission(&m, s);
	}
	else if (arrow(from, to, "disposition", "disposed"))
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(m.account)};

		if (!query_bool("SELECT EXISTS (SELECT 1 FROM smam.archive a WHERE a.account_id OPERATOR(pg_catalog.=) $1)",
						1, types, values))
			unmet(&m, "6.2.2", smam_format("account %lld has no archive record", (long long) m.account),
				  "Disposition archives the account's historical data where appropriate, or records why none was kept.",
				  "Record it with smam.archive_account().");
	}
	else if (arrow(from, to, "planning", "disposed"))
	{
		if (is_blank(col_text(tup, desc, "stage_note")) ||
			same_text(col_text(oldtup, desc, "stage_note"), col_text(tup, desc, "stage_note")))
			smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1.2",
						smam_format("abandoning account %lld needs a reason", (long long) m.account),
						"A planned account is abandoned with the reason, for the record.",
						"Give the reason as the note: smam.abandon_account(account, reason).");
	}
	else
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("account %lld cannot move from %s to %s", (long long) m.account, from, to),
					"The life cycle moves planning to creation, configuration, implementation; implementation to and from evaluation; then disposition and disposed; or abandons a planned account.",
					"See docs/lifecycle.md for the allowed moves.");

	record_move(&m, from, col_text(tup, desc, "stage_note"), false);

	/* smam sets the dates of the stages. */
	{
		const char *names[2] = {"stage_changed_at", "listed_on"};
		Datum		vals[2];
		bool		nulls[2] = {false, false};
		int			n = 1;

		vals[0] = TimestampTzGetDatum(m.at);
		if (strcmp(to, "implementation") == 0 && col_text(tup, desc, "listed_on") == NULL)
		{
			Oid			types[1] = {TIMESTAMPTZOID};
			Datum		values[1] = {TimestampTzGetDatum(m.at)};

			smam_spi_privileged("SELECT smam.today($1)", 1, types, values, NULL, true, 1);
			vals[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &nulls[1]);
			n = 2;
		}
		tup = set_columns(tup, desc, n, names, vals, nulls);
	}
	return tup;
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE (each row) or TRUNCATE (statement) on
 * smam.account.
 */
Datum
smam_lifecycle_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_lifecycle_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event))
		elog(ERROR, "smam_lifecycle_guard: must be fired before the change");

	/* A restore brings back accounts and their history as they were. */
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && TRIGGER_FIRED_FOR_ROW(td->tg_event) &&
		smam_restoring_dump(td->tg_relation))
		return PointerGetDatum(td->tg_trigtuple);

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					"official accounts are disposed of, not deleted",
					"The life cycle ends in disposition; the account and its history stay on record.",
					"Move the account to disposition and disposed, or abandon a planned account.");
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "smam_lifecycle_guard: must be fired for each row");

	desc = td->tg_relation->rd_att;

	/*
	 * The rules read these columns, all NOT NULL. A row lacking one is never
	 * stored: its NOT NULL constraint, checked after this trigger, refuses it
	 * (23502). Reading it here would dereference the missing value.
	 */
	{
		static const char *const required[] = {"id", "department_id", "platform", "stage", "onboarded", NULL};
		HeapTuple	row = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;

		for (int i = 0; required[i] != NULL; i++)
			if (heap_attisnull(row, account_attno(desc, required[i]), desc))
				return PointerGetDatum(row);
	}

	/*
	 * Authorization first, for every update in every stage, whatever the
	 * update changes and however it comes (a plain UPDATE, or a SECURITY
	 * DEFINER function that bypasses row-level security), before anything
	 * about the account is read or said: an edit here, a move by the office
	 * that makes it in guard_update(). (The reassignment of an account was
	 * authorized by smam_reassign_account(), which armed it.)
	 */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		int			stage = account_attno(desc, "stage");
		bool		on,
					nn,
					isnull;
		Datum		os = heap_getattr(td->tg_trigtuple, stage, desc, &on);
		Datum		ns = heap_getattr(td->tg_newtuple, stage, desc, &nn);

		if (on == nn && (on || os == ns) && reassign_account == 0)
			authorize_edit(DatumGetInt64(heap_getattr(td->tg_trigtuple, account_attno(desc, "id"), desc, &isnull)),
						   DatumGetInt64(heap_getattr(td->tg_trigtuple, account_attno(desc, "department_id"), desc, &isnull)),
						   GetUserNameFromId(smam_acting_role(), false), GetCurrentTransactionStartTimestamp());
	}

	/*
	 * Every check of an update reads a column of watched_columns, or the
	 * stage: an update that changes none of them is let through as it is.
	 */
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		update_unwatched(td->tg_trigtuple, td->tg_newtuple, desc))
		return PointerGetDatum(td->tg_newtuple);

	SPI_connect();
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		result = guard_insert(td->tg_trigtuple, desc);
	else
		result = guard_update(td->tg_trigtuple, td->tg_newtuple, desc);

	/*
	 * A row the guards changed lives in SPI's memory and is copied out; the
	 * row as given (the common case of an edit) is returned as it is.
	 */
	if (result != td->tg_trigtuple && result != td->tg_newtuple)
		result = SPI_copytuple(result);
	SPI_finish();
	return PointerGetDatum(result);
}

/*
 * smam.insert_onboarded_account(...) RETURNS bigint: the onboarding path's
 * INSERT. It checks the acting role itself, so that calling it directly
 * grants nothing smam.onboard_account() would not.
 */
Datum
smam_insert_onboarded_account(PG_FUNCTION_ARGS)
{
	char	   *who = GetUserNameFromId(smam_acting_role(), false);
	TimestampTz at = GetCurrentTransactionStartTimestamp();
	Oid			types[10] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, DATEOID, TEXTOID};
	Datum		values[10];
	char		nulls[10];
	int64		id;
	bool		isnull;

	if (!(smam_role_holds_office(who, "entity_official", true, 0, at) ||
		  smam_role_holds_office(who, "administrator", true, 0, at) ||
		  superuser_arg(smam_acting_role())))
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.2.4",
					smam_format("role \"%s\" may not onboard an existing account", who),
					"Onboarding lists an account that already exists in the index of official accounts, which the entity maintains.",
					"Ask the designated senior official of the entity or an administrator of smam.");
	if (PG_ARGISNULL(9) || is_blank(text_to_cstring(PG_GETARG_TEXT_PP(9))))
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.1.2", "onboarding an account needs a reason",
					NULL, "Say why the account enters this way.");

	for (int i = 0; i < 10; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 :
			(i == 6 ? DirectFunctionCall1(textin, DirectFunctionCall1(enum_out, PG_GETARG_DATUM(i))) :
			 PG_GETARG_DATUM(i));
	}

	SPI_connect();
	onboarding_armed = true;
	PG_TRY();
	{
		int			rc = SPI_execute_with_args(
											   "INSERT INTO smam.account (department_id, platform, handle, url, url_key,"
											   " name_en, name_fr, official_language, purpose, listed_on, onboarded_reason,"
											   " stage, onboarded)"
											   " VALUES ($1, $2, $3, $4, pg_catalog.lower($4), $5, $6, $7::smam.official_language,"
											   " $8, $9, $10, 'implementation', true) RETURNING id",
											   10, types, values, nulls, false, 1);

		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "onboarding insert failed: %s", SPI_result_code_string(rc));
	}
	PG_FINALLY();
	{
		onboarding_armed = false;
	}
	PG_END_TRY();
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(id);
}

/*
 * smam.reassign_account(account, department, keep_plan): move one account to
 * another department, changing nothing else but, unless keep_plan (a merge
 * moves the plans too), leaving its old department's plan, for smam.move_account() and
 * smam.merge_departments(), which check the decision; this checks the
 * acting role again (the entity's official, an administrator) and arms the
 * trigger for that one UPDATE.
 */
Datum
smam_reassign_account(PG_FUNCTION_ARGS)
{
	char	   *who = GetUserNameFromId(smam_acting_role(), false);
	TimestampTz at = GetCurrentTransactionStartTimestamp();
	Oid			types[3] = {INT8OID, INT8OID, BOOLOID};
	Datum		values[3] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};

	if (!(smam_role_holds_office(who, "entity_official", true, 0, at) ||
		  smam_role_holds_office(who, "administrator", true, 0, at) ||
		  superuser_arg(smam_acting_role())))
		smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.2.4",
					smam_format("role \"%s\" may not move an account to another department", who),
					"The entity maintains the index of official accounts and decides which department an account belongs to.",
					"Ask the designated senior official of the entity or an administrator of smam.");
	SPI_connect();
	reassign_account = PG_GETARG_INT64(0);
	reassign_department = PG_GETARG_INT64(1);
	reassign_keeps_plan = PG_GETARG_BOOL(2);
	PG_TRY();
	{
		int			rc = SPI_execute_with_args("UPDATE smam.account SET department_id = $2,"
											   " plan_id = CASE WHEN $3 THEN plan_id END,"
											   " plan_attached_at = CASE WHEN $3 THEN plan_attached_at END"
											   " WHERE id OPERATOR(pg_catalog.=) $1",
											   3, types, values, NULL, false, 0);

		if (rc != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "reassigning account %lld failed", (long long) PG_GETARG_INT64(0));
	}
	PG_FINALLY();
	{
		reassign_account = 0;
		reassign_department = 0;
		reassign_keeps_plan = false;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Trigger for records: refuses UPDATE, DELETE and TRUNCATE; with the
 * argument "sealed", refuses an INSERT too unless smam itself writes it.
 */
Datum
smam_record_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	bool		sealed;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_record_guard: not called by trigger manager");
	rel = td->tg_relation;
	sealed = td->tg_trigger->tgnargs > 0 && strcmp(td->tg_trigger->tgargs[0], "sealed") == 0;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && smam_restoring_dump(td->tg_relation))
		return PointerGetDatum(td->tg_trigtuple);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		if (sealed && !record_armed)
			smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
						smam_format("rows of %s are written only by smam", RelationGetRelationName(rel)),
						"The record is kept by smam's own triggers as things happen, so that it cannot be forged.",
						"Act through smam's functions; the record follows.");
		record_armed = false;
		return PointerGetDatum(td->tg_trigtuple);
	}
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "6.1.2",
				smam_format("%s is a record and cannot be changed", RelationGetRelationName(rel)),
				"Records are append-only: what happened stays as it was recorded.",
				"Record a new entry instead of changing an old one.");
	PG_RETURN_NULL();
}

/* One row of smam.move_problems(): code, message, detail. */
static void
problem_row(ReturnSetInfo *rsi, const char *code, const char *message, const char *detail)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, detail == NULL};

	values[0] = CStringGetTextDatum(code);
	values[1] = CStringGetTextDatum(message);
	values[2] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(rsi->setResult, rsi->setDesc, values, nulls);
}

/*
 * smam.move_problems(account bigint, to_stage smam.stage) RETURNS TABLE
 * (code text, message text, detail text): everything that stands between
 * the account and the stage now, without moving it. The move is made in a
 * subtransaction that is always rolled back, with the missing prerequisites
 * gathered (unmet()) rather than refused one by one; a refusal of another
 * kind (who may act, a move that does not exist) ends the trial and is the
 * last row. No rows: the move would be made.
 */
Datum
smam_move_problems(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsi = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (collecting)
		elog(ERROR, "smam.move_problems() cannot be called inside a trial move");
	{
		static bool registered = false;

		if (!registered)
		{
			RegisterSubXactCallback(collect_subxact_callback, NULL);
			RegisterXactCallback(collect_xact_callback, NULL);
			registered = true;
		}
	}
	collected = NIL;
	collect_cxt = cxt;
	BeginInternalSubTransaction(NULL);
	collect_subid = GetCurrentSubTransactionId();
	collecting = true;
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		values[2];
		char		nulls[2] = {PG_ARGISNULL(0) ? 'n' : ' ', PG_ARGISNULL(1) ? 'n' : ' '};

		values[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
		values[1] = PG_ARGISNULL(1) ? (Datum) 0 :
			DirectFunctionCall1(textin, DirectFunctionCall1(enum_out, PG_GETARG_DATUM(1)));
		SPI_connect();
		if (SPI_execute_with_args("SELECT smam.transition($1, $2::smam.stage, 'trial move')",
								  2, types, values, nulls, false, 0) < 0)
			elog(ERROR, "smam.move_problems: the trial move failed to run");
		SPI_finish();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	collecting = false;
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;

	foreach(lc, collected)
	{
		Problem    *p = lfirst(lc);

		problem_row(rsi, "55000", p->message,
					smam_format("%s%sThis enforces requirement %s of the Standard on Social Media Account Management.",
								p->detail ? p->detail : "", p->detail ? " " : "", p->requirement));
	}
	collected = NIL;
	if (edata != NULL)
		problem_row(rsi, unpack_sql_state(edata->sqlerrcode), edata->message, edata->detail);
	return (Datum) 0;
}
