/*
 * catalogue.c: the catalogue of the Standard is read-only to every role.
 *
 * smam ships the text of the Standard, its requirements and dates, the
 * agents of Parliament of section 2.2 and the known platforms. Those rows
 * change only when the extension's own scripts run (CREATE or ALTER
 * EXTENSION); a trigger refuses every other change, whoever asks, the
 * table's owner and superusers included. Tables that mix shipped rows with
 * rows of the installation (departments, platforms) mark shipped rows with a
 * boolean column "shipped"; only those rows are guarded there.
 */
#include "smam.h"

#include "access/htup_details.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(smam_catalogue_guard);

bool
smam_in_extension_script(void)
{
	return creating_extension;
}

static bool
row_is_shipped(Relation rel, HeapTuple tup, int attno)
{
	bool isnull;
	Datum d = heap_getattr(tup, attno, RelationGetDescr(rel), &isnull);

	return !isnull && DatumGetBool(d);
}

static void
refuse_catalogue_change(Relation rel, const char *what)
{
	smam_refuse(
		ERRCODE_INSUFFICIENT_PRIVILEGE, NULL,
		smam_format("%s is part of the catalogue of the Standard and cannot be changed", what),
		smam_format("Table %s.%s holds text and dates of the Standard as smam ships them.",
					get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)),
		"The catalogue changes only with the extension: ALTER EXTENSION smam UPDATE. "
		"Dates communicated by the Secretary are recorded with smam.record_effective_date().");
}

/*
 * Trigger: BEFORE INSERT OR UPDATE OR DELETE (for each row) or TRUNCATE
 * (for each statement). Tables without a "shipped" column are wholly part of
 * the catalogue.
 */
Datum
smam_catalogue_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation rel;
	int shipped_att;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_catalogue_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "smam_catalogue_guard: must be fired before the change");

	if (smam_in_extension_script())
		return TRIGGER_FIRED_FOR_ROW(trigdata->tg_event)
				   ? PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)
										 ? trigdata->tg_newtuple
										 : trigdata->tg_trigtuple)
				   : PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	shipped_att = SPI_fnumber(RelationGetDescr(rel), "shipped");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		refuse_catalogue_change(rel, smam_format("table %s", RelationGetRelationName(rel)));

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "smam_catalogue_guard: must be fired for each row, or for TRUNCATE");

	if (shipped_att <= 0)
		refuse_catalogue_change(rel, smam_format("a row of %s", RelationGetRelationName(rel)));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (row_is_shipped(rel, trigdata->tg_trigtuple, shipped_att))
			refuse_catalogue_change(rel, "a shipped row");
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	if (row_is_shipped(rel, trigdata->tg_trigtuple, shipped_att))
		refuse_catalogue_change(rel,
								smam_format("a shipped row of %s", RelationGetRelationName(rel)));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		if (row_is_shipped(rel, trigdata->tg_newtuple, shipped_att))
			refuse_catalogue_change(rel, "a shipped row");
		return PointerGetDatum(trigdata->tg_newtuple);
	}
	return PointerGetDatum(trigdata->tg_trigtuple);
}
