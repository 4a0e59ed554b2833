/*
 * audit.c: the audit trigger.
 *
 * smam.audit() is attached AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW to
 * every table of schema smam (sql/smam/97_audit_attach.sql), and BEFORE
 * TRUNCATE, which it refuses. For each changed row it writes one row of
 * smam.audit_log: who (acting, effective and session role, their offices,
 * application, client address: audit_context.c), when (transaction and
 * statement start), what (table, operation, key, and the change: new values
 * of an INSERT, old values of a DELETE, only the changed columns of an
 * UPDATE; columns named *_secret are never written, only named when they
 * changed) and the row's SHA-256 hash (chain.c). audit_seal.c writes the
 * row and seals the transaction's rows into the chain at commit.
 */
#include "smam.h"
#include "audit.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(smam_audit);
PG_FUNCTION_INFO_V1(smam_audit_log_guard);

/* A role's name as text, kept for the transaction (roles rarely change within one). */
static Datum
role_name_datum(AuditXact *x, int slot, Oid role)
{
	if (x->names[slot] == NULL || x->name_role[slot] != role)
	{
		x->names[slot] = (text *) MemoryContextAlloc(TopTransactionContext, VARHDRSZ + NAMEDATALEN);
		{
			const char *n = GetUserNameFromId(role, false);
			size_t len = strlen(n);

			SET_VARSIZE(x->names[slot], VARHDRSZ + len);
			memcpy(VARDATA(x->names[slot]), n, len);
		}
		x->name_role[slot] = role;
	}
	return PointerGetDatum(x->names[slot]);
}

/* ---- the change as JSON ---- */

static bool
looks_like_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	for (; *p; p++)
		if (!(isdigit((unsigned char) *p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
			  *p == '-'))
			return false;
	return true;
}

static void
push_key(JsonbParseState **st, const char *name)
{
	JsonbValue k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_value(JsonbParseState **st, ColInfo *c, Datum d, bool isnull)
{
	JsonbValue v;
	char *s;

	if (isnull)
	{
		v.type = jbvNull;
		pushJsonbValue(st, WJB_VALUE, &v);
		return;
	}
	switch (c->kind)
	{
		case 'b':
			v.type = jbvBool;
			v.val.boolean = DatumGetBool(d);
			break;
		case 'j':
		case 'J':
		{
			Jsonb *jb;

			if (c->kind == 'j')
				jb = DatumGetJsonbP(d);
			else
				jb = DatumGetJsonbP(
					DirectFunctionCall1(jsonb_in, CStringGetDatum(OutputFunctionCall(&c->out, d))));
			v.type = jbvBinary;
			v.val.binary.data = &jb->root;
			v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
			break;
		}
		case 't':
		{
			int utc = 0;

			s = JsonEncodeDateTime(NULL, d, c->typid, c->typid == TIMESTAMPTZOID ? &utc : NULL);
			v.type = jbvString;
			v.val.string.val = s;
			v.val.string.len = strlen(s);
			break;
		}
		case 'i':
		{
			/* In IntervalStyle postgres, whatever the session's. */
			struct pg_itm itm;

			s = palloc(MAXDATELEN + 1);
			interval2itm(*DatumGetIntervalP(d), &itm);
			EncodeInterval(&itm, INTSTYLE_POSTGRES, s);
			v.type = jbvString;
			v.val.string.val = s;
			v.val.string.len = strlen(s);
			break;
		}
		case 'n':
			s = OutputFunctionCall(&c->out, d);
			if (looks_like_json_number(s))
			{
				v.type = jbvNumeric;
				v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
			}
			else
			{
				v.type = jbvString;
				v.val.string.val = s;
				v.val.string.len = strlen(s);
			}
			break;
		default:
			s = OutputFunctionCall(&c->out, d);
			v.type = jbvString;
			v.val.string.val = s;
			v.val.string.len = strlen(s);
			break;
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

static Datum
finish_object(JsonbParseState **st)
{
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(st, WJB_END_OBJECT, NULL)));
}

/* Are two values of a column the same? Binary equality, detoasted. */
static bool
same_value(Form_pg_attribute att, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull && bnull;
	if (datumIsEqual(a, b, att->attbyval, att->attlen))
		return true;
	if (att->attlen == -1)
	{
		struct varlena *x = PG_DETOAST_DATUM_PACKED(a);
		struct varlena *y = PG_DETOAST_DATUM_PACKED(b);

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			   memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return false;
}

/* The row's key: the primary key's value, or "(v1,v2)" for several. */
static Datum
row_key(TableInfo *info, const Datum *vals, const bool *vnulls, bool *isnull)
{
	StringInfoData buf;

	*isnull = info->npk == 0;
	if (*isnull)
		return (Datum) 0;
	initStringInfo(&buf);
	if (info->npk > 1)
		appendStringInfoChar(&buf, '(');
	for (int k = 0; k < info->npk; k++)
	{
		int a = info->pk[k] - 1;

		if (k > 0)
			appendStringInfoChar(&buf, ',');
		if (!vnulls[a])
			appendStringInfoString(&buf, OutputFunctionCall(&info->cols[a].out, vals[a]));
	}
	if (info->npk > 1)
		appendStringInfoChar(&buf, ')');
	return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
}

/* ---- the trigger ---- */

static void
refuse_truncate(Relation rel)
{
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "7.1.1",
				smam_format("table smam.%s is audited and cannot be truncated",
							RelationGetRelationName(rel)),
				"TRUNCATE removes rows without recording each removal in smam.audit_log.",
				"Delete the rows with DELETE, so that each removal is recorded.");
}

/*
 * smam.audit() RETURNS trigger: AFTER INSERT OR UPDATE OR DELETE FOR EACH
 * ROW on every table of smam, and BEFORE TRUNCATE FOR EACH STATEMENT.
 */
Datum
smam_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation rel;
	TupleDesc desc;
	TableInfo *info;
	AuditXact *x;
	HeapTuple oldtup = NULL, newtup = NULL;
	Datum *ov = NULL, *nv = NULL;
	bool *onl = NULL, *nnl = NULL;
	Datum values[AL_NATTS];
	bool nulls[AL_NATTS];
	const char *op;
	JsonbParseState *old_st = NULL, *new_st = NULL;
	Datum *secrets;
	int nsecrets = 0;
	uint8 hash[SMAM_HASH_LEN];

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_audit: not called by trigger manager");
	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		refuse_truncate(rel);
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "smam_audit: must be fired after the change, for each row");
	/* Restored rows bring their history with them (restore.c, docs/audit.md). */
	if (smam_restoring_dump(rel))
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(rel);
	info = smam_audit_table_info(rel);
	x = smam_audit_xact();

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		op = "INSERT";
		newtup = trigdata->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		op = "UPDATE";
		oldtup = trigdata->tg_trigtuple;
		newtup = trigdata->tg_newtuple;
	}
	else
	{
		op = "DELETE";
		oldtup = trigdata->tg_trigtuple;
	}
	/* Each version's columns, taken apart once. */
	if (oldtup)
	{
		ov = palloc(desc->natts * sizeof(Datum));
		onl = palloc(desc->natts * sizeof(bool));
		heap_deform_tuple(oldtup, desc, ov, onl);
	}
	if (newtup)
	{
		nv = palloc(desc->natts * sizeof(Datum));
		nnl = palloc(desc->natts * sizeof(bool));
		heap_deform_tuple(newtup, desc, nv, nnl);
	}

	/* Offices changed: every backend forgets the offices it knew. */
	if (info->holds_offices)
		CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));

	memset(nulls, false, sizeof(nulls));
	values[AL_TXN] = Int64GetDatum(x->txn);
	values[AL_ORDINAL] = Int32GetDatum(x->nrows + 1);
	values[AL_XID] = Int64GetDatum(x->xid);
	values[AL_TX_TIME] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[AL_STMT_TIME] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[AL_ACTING_ROLE] = role_name_datum(x, 0, smam_acting_role());
	values[AL_EFFECTIVE_ROLE] = role_name_datum(x, 1, GetUserId());
	values[AL_SESSION_ROLE] = role_name_datum(x, 2, GetSessionUserId());
	if (application_name != NULL && application_name[0] != '\0')
		values[AL_APPLICATION] = CStringGetTextDatum(application_name);
	else
		nulls[AL_APPLICATION] = true;
	smam_audit_client_addr(&values[AL_CLIENT_ADDR], &nulls[AL_CLIENT_ADDR]);
	{
		char *office = smam_audit_offices(smam_acting_role());

		if (office != NULL)
			values[AL_OFFICE] = CStringGetTextDatum(office);
		else
			nulls[AL_OFFICE] = true;
	}
	values[AL_TABLE] = PointerGetDatum(info->qualname);
	values[AL_OPERATION] = CStringGetTextDatum(op);
	values[AL_ROW_KEY] = oldtup ? row_key(info, ov, onl, &nulls[AL_ROW_KEY])
								: row_key(info, nv, nnl, &nulls[AL_ROW_KEY]);
	if (info->department_att > 0)
	{
		int a = info->department_att - 1;

		values[AL_DEPARTMENT] = newtup ? nv[a] : ov[a];
		nulls[AL_DEPARTMENT] = newtup ? nnl[a] : onl[a];
	}
	else
		nulls[AL_DEPARTMENT] = true;

	/* The change. */
	secrets = palloc(sizeof(Datum) * desc->natts);
	if (oldtup)
		pushJsonbValue(&old_st, WJB_BEGIN_OBJECT, NULL);
	if (newtup)
		pushJsonbValue(&new_st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		ColInfo *c = &info->cols[i];
		Datum od = 0, nd = 0;
		bool on = true, nn = true;

		if (c->kind == 'x')
			continue;
		if (oldtup)
		{
			od = ov[i];
			on = onl[i];
		}
		if (newtup)
		{
			nd = nv[i];
			nn = nnl[i];
		}
		if (oldtup && newtup && same_value(TupleDescAttr(desc, i), od, on, nd, nn))
			continue;
		if (c->secret)
		{
			/* Only that it changed: set, replaced or cleared. */
			if (!(oldtup == NULL && nn) && !(newtup == NULL && on))
				secrets[nsecrets++] = CStringGetTextDatum(c->name);
			continue;
		}
		if (oldtup)
		{
			push_key(&old_st, c->name);
			push_value(&old_st, c, od, on);
		}
		if (newtup)
		{
			push_key(&new_st, c->name);
			push_value(&new_st, c, nd, nn);
		}
	}
	if (oldtup)
		values[AL_OLD_VALUES] = finish_object(&old_st);
	else
		nulls[AL_OLD_VALUES] = true;
	if (newtup)
		values[AL_NEW_VALUES] = finish_object(&new_st);
	else
		nulls[AL_NEW_VALUES] = true;
	if (nsecrets > 0)
		values[AL_SECRETS] =
			PointerGetDatum(construct_array(secrets, nsecrets, TEXTOID, -1, false, TYPALIGN_INT));
	else
		nulls[AL_SECRETS] = true;

	smam_audit_row_hash(values, nulls, hash);
	values[AL_ROW_HASH] = PointerGetDatum(smam_hash_bytea(hash));
	smam_direct_insert(x->log, values, nulls);

	smam_audit_remember(x, hash);

	return PointerGetDatum(NULL);
}

/*
 * smam.audit_log_guard() RETURNS trigger: BEFORE UPDATE OR DELETE FOR EACH
 * ROW and BEFORE TRUNCATE on the tables of the log. Refuses every change,
 * whoever asks, the owner included; smam.archive_audit_log() alone deletes
 * a period it has checkpointed.
 */
Datum
smam_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_audit_log_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "smam_audit_log_guard: must be fired before the change");
	if (smam_audit_maintenance && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "7.1.1",
				smam_format("the audit log cannot be changed: %s on smam.%s is refused",
							TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)	  ? "UPDATE"
							: TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "DELETE"
																		  : "TRUNCATE",
							RelationGetRelationName(trigdata->tg_relation)),
				"The audit log is written once and never updated, deleted or truncated, by any "
				"role, its owner included.",
				"Old periods leave the log only through smam.archive_audit_log(), once exported.");
	pg_unreachable();
}
