/*
 * audit.h: declarations shared by the audit trigger (audit.c), the chain's
 * hashing (chain.c) and verification (audit_verify.c).
 */
#ifndef SMAM_AUDIT_H
#define SMAM_AUDIT_H

#include "postgres.h"

#include "utils/timestamp.h"

#define SMAM_HASH_LEN 32

/*
 * The columns of smam.audit_log, zero-based, in table order. The audit
 * fragment (sql/smam/90_audit.sql) creates them in this order; the trigger
 * checks the table against this list before it writes.
 */
#define AL_TXN 0
#define AL_ORDINAL 1
#define AL_XID 2
#define AL_TX_TIME 3
#define AL_STMT_TIME 4
#define AL_ACTING_ROLE 5
#define AL_EFFECTIVE_ROLE 6
#define AL_SESSION_ROLE 7
#define AL_APPLICATION 8
#define AL_CLIENT_ADDR 9
#define AL_OFFICE 10
#define AL_TABLE 11
#define AL_OPERATION 12
#define AL_ROW_KEY 13
#define AL_DEPARTMENT 14
#define AL_OLD_VALUES 15
#define AL_NEW_VALUES 16
#define AL_SECRETS 17
#define AL_ROW_HASH 18
#define AL_NATTS 19

/* The columns of smam.audit_seal, zero-based. */
#define AS_POSITION 0
#define AS_TXN 1
#define AS_XID 2
#define AS_ROWS 3
#define AS_TXN_HASH 4
#define AS_SEALED_AT 5
#define AS_PREV_HASH 6
#define AS_HASH 7
#define AS_COMMITTED_AT 8
#define AS_NATTS 9

/*
 * The columns of smam.audit_commit, zero-based: a committed transaction
 * waiting to be chained.
 */
#define AC_TXN 0
#define AC_XID 1
#define AC_ROWS 2
#define AC_TXN_HASH 3
#define AC_COMMITTED_AT 4
#define AC_NATTS 5

typedef struct SmamHash
{
	uint32 state[8];
	uint64 length; /* bytes hashed so far */
	uint8 buffer[64];
	size_t used;											 /* bytes waiting in buffer */
	void (*blocks)(uint32 *state, const uint8 *p, size_t n); /* sha256.c */
} SmamHash;

/* sha256.c */
extern void smam_hash_begin(SmamHash *h, const char *domain);
extern void smam_hash_raw(SmamHash *h, const void *data, size_t len);
extern void smam_hash_end(SmamHash *h, uint8 *out);
/* chain.c */
extern void smam_hash_int64(SmamHash *h, int64 v);

extern void smam_audit_row_hash(const Datum *values, const bool *nulls, uint8 *out);
extern void smam_audit_txn_hash_begin(SmamHash *h, int64 txn);
extern void smam_audit_seal_hash(int64 position, int64 txn, int64 xid, int64 rows,
								 const uint8 *txn_hash, TimestampTz sealed_at,
								 const uint8 *prev_hash, TimestampTz committed_at, uint8 *out);
extern bytea *smam_hash_bytea(const uint8 *hash);
extern bool smam_hash_from_bytea(Datum d, uint8 *out);
extern char *smam_hash_hex(const uint8 *hash);

/*
 * The audit's shared state, between the trigger (audit.c), what it knows
 * of tables and roles (audit_context.c) and the transaction (audit_seal.c).
 */
#include "access/heapam.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"

/* A relation opened for direct insertion, for the rest of the transaction. */
typedef struct DirectInsert
{
	Relation rel;
	EState *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	bool has_brin;			 /* the table has BRIN indexes, summarized behind its writers */
	BulkInsertState bistate; /* NULL, or the ring of buffers it writes through */
} DirectInsert;

/*
 * The transaction hash as it stood when an open subtransaction wrote its
 * first row (or a committed child of it did): a rollback to it returns here.
 */
typedef struct SavedTxnHash
{
	SubTransactionId subid;
	int32 nrows;
	SmamHash txn_hash;
} SavedTxnHash;

/* What this backend's transaction has written to the log so far. */
typedef struct AuditXact
{
	int64 txn; /* from smam.audit_txn_seq */
	int64 xid; /* top-level full transaction id */
	int32 nrows;
	SmamHash txn_hash; /* over the hashes of the rows so far, in order */
	int32 nsaved;	   /* one per open subtransaction that wrote rows */
	int32 saved_cap;
	SavedTxnHash *saved;
	DirectInsert *log;
	Oid name_role[3]; /* last roles named, and their names */
	text *names[3];
} AuditXact;

/* Per column of an audited table: how its values become JSON. */
typedef struct ColInfo
{
	char *name;
	Oid typid; /* base type */
	char kind; /* n number, b bool, j jsonb, J json, t time,
				* i interval, s string, x dropped */
	bool secret;
	FmgrInfo out;
} ColInfo;

/* Per audited table, kept for the session (see table_info). */
typedef struct TableInfo
{
	MemoryContext cxt; /* holds this and everything it points to */
	Oid relid;
	int natts;
	text *qualname;
	int npk;
	AttrNumber pk[INDEX_MAX_KEYS];
	AttrNumber department_att; /* 0 when the table has none */
	bool holds_offices;		   /* smam.appointment or smam.principal */
	ColInfo *cols;
} TableInfo;

/* audit_seal.c */
extern void smam_audit_init(void);
extern void smam_audit_relcache_inval(Oid relid);
extern bool smam_audit_maintenance; /* archiving may delete log rows */
extern void smam_audit_lock_chain(void);
extern int64 smam_audit_seal_committed(bool wait);
extern bool smam_audit_can_seal(void);
extern void smam_audit_worker_seal(void);
extern int smam_audit_seal_interval;
extern Oid smam_audit_relid(const char *relname);
extern int64 smam_audit_current_txn(void);
extern AuditXact *smam_audit_xact(void);
extern void smam_audit_remember(AuditXact *x, const uint8 *hash);
extern DirectInsert *smam_direct_open(Oid relid, int expected_natts);
extern void smam_direct_insert(DirectInsert *d, const Datum *values, const bool *nulls);
extern void smam_direct_close(DirectInsert *d);

/* audit_verify.c */
extern void smam_audit_verify_init(void);

/* audit_summary.c */
extern void smam_audit_summarize_behind(ResultRelInfo *rri, ItemPointer tid);

/* audit_context.c */
extern void smam_audit_context_relcache_inval(Oid relid);
extern char *smam_audit_offices(Oid role);
extern void smam_audit_client_addr(Datum *value, bool *isnull);
extern TableInfo *smam_audit_table_info(Relation rel);

#endif /* SMAM_AUDIT_H */
