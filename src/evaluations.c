/*
 * evaluations.c: who starts and completes an evaluation, who records an
 * archive (requirements 6.1.2 and 6.2.2).
 *
 * One BEFORE trigger, smam.evaluation_guard(), on two tables, whoever
 * writes the row (smam.start_evaluation(), smam.complete_evaluation(),
 * smam.archive_account(), or the table owner's own SQL):
 *
 *   smam.evaluation INSERT  head of communications or designate of the
 *                           row's department (6.1.2); the account is live
 *                           (implementation) and of that department; smam
 *                           records who started it and when, and the
 *                           evaluation starts open (no findings, not
 *                           completed)
 *   smam.evaluation UPDATE  the same office; a completed evaluation never
 *                           changes; an open one keeps how it was started
 *                           (id, account, department, note, started_by,
 *                           started_at); completing it records who and when
 *   smam.archive INSERT     entity official (6.2.2); the account is in
 *                           disposition and of the row's department; smam
 *                           records who and when
 *
 * The archive's UPDATE and DELETE are refused by smam.record_guard()
 * (lifecycle.c). A restore (smam_restoring_dump(td->tg_relation)) brings rows back as they
 * were recorded.
 */
#include "smam.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(smam_evaluation_guard);

/* What the trigger knows of the row and of who writes it. */
typedef struct Write
{
	const char *table;			/* evaluation or archive */
	char	   *who;
	TimestampTz at;
	int64		account;
	int64		dept;
	bool		found;			/* the account exists */
	char	   *stage;			/* the account's stage */
	int64		account_dept;	/* the account's department */
} Write;

static int
attno_of(TupleDesc desc, const char *table, const char *column)
{
	int			attno = SPI_fnumber(desc, column);

	if (attno <= 0)
		elog(ERROR, "smam.%s has no column \"%s\"", table, column);
	return attno;
}

/* A bigint column; false when it is NULL. */
static bool
int8_column(HeapTuple tup, TupleDesc desc, const char *table, const char *column, int64 *value)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno_of(desc, table, column), desc, &isnull);

	*value = isnull ? 0 : DatumGetInt64(d);
	return !isnull;
}

static bool
column_is_null(HeapTuple tup, TupleDesc desc, const char *table, const char *column)
{
	bool		isnull;

	(void) heap_getattr(tup, attno_of(desc, table, column), desc, &isnull);
	return isnull;
}

/* Is a column the same in both rows? Equal bytes, else equal text forms. */
static bool
same_column(HeapTuple a, HeapTuple b, TupleDesc desc, const char *table, const char *column)
{
	int			attno = attno_of(desc, table, column);
	Form_pg_attribute att = TupleDescAttr(desc, attno - 1);
	bool		anull,
				bnull;
	Datum		av = heap_getattr(a, attno, desc, &anull);
	Datum		bv = heap_getattr(b, attno, desc, &bnull);

	if (anull || bnull)
		return anull == bnull;
	if (datumIsEqual(av, bv, att->attbyval, att->attlen))
		return true;
	return strcmp(SPI_getvalue(a, desc, attno), SPI_getvalue(b, desc, attno)) == 0;
}

/*
 * The account's stage and department, read past row-level security (the
 * rule depends on the account whoever may see it).
 */
static void
read_account(Write *w)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(w->account)};
	bool		isnull;

	smam_spi_privileged("SELECT a.stage::pg_catalog.text, a.department_id FROM smam.account a"
						" WHERE a.id OPERATOR(pg_catalog.=) $1",
						1, types, values, NULL, true, 1);
	w->found = SPI_processed > 0;
	if (!w->found)
		return;
	w->stage = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	w->account_dept = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

/* Refuse unless the writer holds the office now (42501). */
static void
require_office(Write *w, const char *office, const char *requirement, const char *act)
{
	bool		government_wide = strcmp(office, "head_of_communications") != 0;

	if (smam_role_holds_office(w->who, office, government_wide, w->dept, w->at))
		return;
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, requirement,
				smam_format("role \"%s\" may not %s", w->who, act),
				government_wide ?
				smam_format("This requires the office %s, held now.", office) :
				smam_format("This requires the office head_of_communications (or designate) for department %lld, held now.",
							(long long) w->dept),
				smam_format("Ask a holder of the office %s to act, or an administrator to appoint you.", office));
}

/* The account must be in the stage the act needs. */
static void
require_stage(Write *w, const char *stage, const char *requirement, const char *hint)
{
	if (!w->found)
		smam_refuse(ERRCODE_FOREIGN_KEY_VIOLATION, NULL,
					smam_format("account %lld does not exist", (long long) w->account),
					NULL, "Name an account of smam.account.");
	if (strcmp(w->stage, stage) != 0)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, requirement,
					smam_format("account %lld is in %s, not in %s", (long long) w->account, w->stage, stage),
					NULL, hint);
}

/* The row names its account's own department. */
static void
require_department(Write *w)
{
	if (w->account_dept != w->dept)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					smam_format("account %lld is not of department %lld", (long long) w->account,
								(long long) w->dept),
					smam_format("It belongs to department %lld.", (long long) w->account_dept),
					"Name the account's own department.");
}

static HeapTuple
set_columns(HeapTuple tup, TupleDesc desc, const char *table, int n, const char **names,
			Datum *vals, bool *nulls)
{
	int			cols[5];

	Assert(n <= 5);
	for (int i = 0; i < n; i++)
		cols[i] = attno_of(desc, table, names[i]);
	return heap_modify_tuple_by_cols(tup, desc, n, cols, vals, nulls);
}

static Datum
who_datum(Write *w)
{
	return DirectFunctionCall1(namein, CStringGetDatum(w->who));
}

static HeapTuple
archive_insert(Write *w, HeapTuple tup, TupleDesc desc)
{
	const char *names[2] = {"recorded_by", "recorded_at"};
	Datum		vals[2];
	bool		nulls[2] = {false, false};

	require_office(w, "entity_official", "6.2.2", "record the archive of an account");
	read_account(w);
	require_stage(w, "disposition", "6.2.2", "Archive an account once its disposition has begun.");
	require_department(w);
	vals[0] = who_datum(w);
	vals[1] = TimestampTzGetDatum(w->at);
	return set_columns(tup, desc, w->table, 2, names, vals, nulls);
}

static HeapTuple
evaluation_insert(Write *w, HeapTuple tup, TupleDesc desc)
{
	const char *names[5] = {"started_by", "started_at", "findings", "completed_by", "completed_at"};
	Datum		vals[5] = {0, 0, 0, 0, 0};
	bool		nulls[5] = {false, false, true, true, true};

	require_office(w, "head_of_communications", "6.1.2", "evaluate an account");
	read_account(w);
	require_stage(w, "implementation", "6.1.2", "Evaluate a live account.");
	require_department(w);
	vals[0] = who_datum(w);
	vals[1] = TimestampTzGetDatum(w->at);
	return set_columns(tup, desc, w->table, 5, names, vals, nulls);
}

static HeapTuple
evaluation_update(Write *w, HeapTuple oldtup, HeapTuple tup, TupleDesc desc)
{
	static const char *const kept[] = {
		"id", "account_id", "department_id", "note", "started_by", "started_at", NULL
	};
	int64		id;

	if (!int8_column(oldtup, desc, w->table, "id", &id))
		elog(ERROR, "smam.evaluation has a row without an id");

	require_office(w, "head_of_communications", "6.1.2", "evaluate an account");
	if (!column_is_null(oldtup, desc, w->table, "completed_at"))
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
					smam_format("evaluation %lld is completed and cannot change", (long long) id),
					"Its findings stand as they were recorded.",
					"Start a new evaluation.");
	for (int i = 0; kept[i] != NULL; i++)
		if (!same_column(oldtup, tup, desc, w->table, kept[i]))
			smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "6.1.2",
						smam_format("evaluation %lld keeps how it was started", (long long) id),
						smam_format("Column %s would change.", kept[i]),
						"Only its findings and completion are recorded.");
	if (!column_is_null(tup, desc, w->table, "completed_at"))
	{
		const char *names[2] = {"completed_by", "completed_at"};
		Datum		vals[2];
		bool		nulls[2] = {false, false};

		vals[0] = who_datum(w);
		vals[1] = TimestampTzGetDatum(w->at);
		tup = set_columns(tup, desc, w->table, 2, names, vals, nulls);
	}
	return tup;
}

/*
 * BEFORE INSERT OR UPDATE on smam.evaluation, BEFORE INSERT on
 * smam.archive, for each row.
 */
Datum
smam_evaluation_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	result;
	Write		w;
	bool		archive;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_evaluation_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		elog(ERROR, "smam_evaluation_guard: must be fired before INSERT or UPDATE, for each row");

	/* A restore brings evaluations and archives back as they were recorded. */
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && smam_restoring_dump(td->tg_relation))
		return PointerGetDatum(td->tg_trigtuple);

	memset(&w, 0, sizeof(w));
	w.table = RelationGetRelationName(td->tg_relation);
	archive = strcmp(w.table, "archive") == 0;
	if (!archive && strcmp(w.table, "evaluation") != 0)
		elog(ERROR, "smam_evaluation_guard: fired on %s, not on smam.evaluation or smam.archive", w.table);
	if (archive && !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "smam_evaluation_guard: fired on UPDATE of smam.archive");

	desc = td->tg_relation->rd_att;
	w.who = GetUserNameFromId(smam_acting_role(), false);
	w.at = GetCurrentTransactionStartTimestamp();

	result = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;

	/*
	 * Without an account or a department the row is never stored: its NOT
	 * NULL constraints, checked after this trigger, refuse it (23502).
	 */
	if (!int8_column(result, desc, w.table, "account_id", &w.account) ||
		!int8_column(result, desc, w.table, "department_id", &w.dept))
		return PointerGetDatum(result);

	SPI_connect();
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		result = archive ? archive_insert(&w, td->tg_trigtuple, desc) :
			evaluation_insert(&w, td->tg_trigtuple, desc);
	else
		result = evaluation_update(&w, td->tg_trigtuple, td->tg_newtuple, desc);
	result = SPI_copytuple(result);
	SPI_finish();
	return PointerGetDatum(result);
}
