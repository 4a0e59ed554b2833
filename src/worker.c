/*
 * worker.c: the publishing worker, one per database an administrator names
 * in smam.worker_databases (smam must be in shared_preload_libraries).
 *
 * The worker sleeps on its latch. A transaction that makes deliveries due
 * (the statement trigger smam.delivery_wake) sets the latch of its
 * database's worker when it commits, through a transaction callback, so the
 * worker starts on new work at once; while there is work it sends batch
 * after batch without sleeping; otherwise it sleeps until the next retry
 * falls due (or smam.worker_idle_timeout, a safety net). Each batch claims
 * and records in short transactions of its own (delivery.c); none is open
 * while requests are on the network, where interrupts are answered at
 * least every 100 ms (http.c).
 *
 * The worker connects as smam_worker, a role the extension creates for it
 * alone: not a superuser, no BYPASSRLS, with the grants and row-level
 * security policies publishing needs (credentials included) and nothing
 * else. PostgreSQL 15 lets a background worker connect only as a role with
 * LOGIN (InitializeSessionUserId; BGWORKER_BYPASS_ROLELOGINCHECK came in
 * 17), so smam_worker has LOGIN and no password; docs/publishing.md shows
 * the pg_hba.conf line that refuses it to clients (a background worker
 * does not go through pg_hba.conf). The worker refuses to run if the role
 * was made a superuser or given BYPASSRLS. Before its first query it pins
 * search_path to "pg_catalog, pg_temp" and the settings that change what
 * SQL means, for its whole life: a database's settings (ALTER DATABASE
 * ... SET) cannot reach its queries.
 *
 * SIGHUP reloads the settings; SIGTERM stops it cleanly between two steps
 * or inside the network loop; after a crash the postmaster starts it again
 * (bgw_restart_time), and deliveries it had claimed are taken up again by
 * the next claim because their sender is gone. On a hot standby it stays
 * idle, checking every few seconds whether the server was promoted.
 */
#include "smam.h"
#include "audit.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(smam_delivery_wake);
PGDLLEXPORT void smam_worker_main(Datum arg);

#define SMAM_MAX_WORKERS 16

typedef struct WorkerSlot
{
	Oid dbid;
	pid_t pid;
	Latch *latch;
} WorkerSlot;

typedef struct WorkerShared
{
	slock_t mutex;
	WorkerSlot slots[SMAM_MAX_WORKERS];
} WorkerShared;

static char *worker_databases = NULL;
static int worker_idle_timeout = 60000;
static int worker_restart_delay = 5;

static WorkerShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;
static bool wake_at_commit = false;
static bool am_worker = false;
static int my_slot = -1;

static void
shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
}

static void
shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("smam publishing workers", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(WorkerShared));
		SpinLockInit(&shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* At commit of a transaction that made work due, wake the worker. */
static void
xact_callback(XactEvent event, void *arg)
{
	if (!wake_at_commit)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		Latch *latches[SMAM_MAX_WORKERS];
		int n = 0;

		wake_at_commit = false;
		if (shared == NULL)
			return;
		/* Copy the latches under the spinlock, set them after (as WalSndWakeup). */
		SpinLockAcquire(&shared->mutex);
		for (int i = 0; i < SMAM_MAX_WORKERS; i++)
			if (shared->slots[i].latch != NULL && shared->slots[i].dbid == MyDatabaseId)
				latches[n++] = shared->slots[i].latch;
		SpinLockRelease(&shared->mutex);
		for (int i = 0; i < n; i++)
			SetLatch(latches[i]);
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

/* Statement trigger on smam.delivery: wake the worker at commit. */
Datum
smam_delivery_wake(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_delivery_wake: not called by trigger manager");
	if (!am_worker)
		wake_at_commit = true;
	return PointerGetDatum(NULL);
}

void
smam_worker_init(void)
{
	/*
	 * Settings read only at server start exist only where smam is preloaded:
	 * PostgreSQL refuses to create them later, and without preload there is
	 * no worker for them to configure (smam.dispatch() works either way).
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable(
			"smam.worker_databases", "Databases in which a publishing worker runs (comma-separated).",
			"Needs smam in shared_preload_libraries; empty: no worker, use smam.dispatch().",
			&worker_databases, "", PGC_POSTMASTER, GUC_LIST_INPUT, NULL, NULL, NULL);
		DefineCustomIntVariable(
			"smam.worker_restart_delay", "Seconds before a crashed worker is started again.", NULL,
			&worker_restart_delay, 5, 1, 3600, PGC_POSTMASTER, GUC_UNIT_S, NULL, NULL, NULL);
	}
	DefineCustomIntVariable(
		"smam.worker_idle_timeout",
		"Longest sleep of an idle worker when nothing is due and nothing wakes it.", NULL,
		&worker_idle_timeout, 60000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	RegisterXactCallback(xact_callback, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;

	{
		char *copy = pstrdup(worker_databases);
		List *names;
		ListCell *lc;
		int i = 0;

		if (!SplitIdentifierString(copy, ',', &names))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("smam.worker_databases is not a list of database names: \"%s\"",
								   worker_databases)));
		foreach (lc, names)
		{
			BackgroundWorker w;
			const char *db = lfirst(lc);

			if (i >= SMAM_MAX_WORKERS)
				ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
								errmsg("smam.worker_databases names more than %d databases",
									   SMAM_MAX_WORKERS)));
			memset(&w, 0, sizeof(w));
			w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
			w.bgw_start_time = BgWorkerStart_ConsistentState;
			w.bgw_restart_time = worker_restart_delay;
			snprintf(w.bgw_library_name, BGW_MAXLEN, "smam");
			snprintf(w.bgw_function_name, BGW_MAXLEN, "smam_worker_main");
			snprintf(w.bgw_name, BGW_MAXLEN, "smam publishing worker for %s", db);
			snprintf(w.bgw_type, BGW_MAXLEN, "smam publishing worker");
			strlcpy(w.bgw_extra, db, BGW_EXTRALEN);
			w.bgw_main_arg = Int32GetDatum(i);
			RegisterBackgroundWorker(&w);
			i++;
		}
	}
}

static void
leave_slot(int code, Datum arg)
{
	if (shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&shared->mutex);
	shared->slots[my_slot].latch = NULL;
	shared->slots[my_slot].pid = 0;
	SpinLockRelease(&shared->mutex);
}

/* Is smam installed in this database? (own short transaction) */
static bool
extension_installed(void)
{
	bool found;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute(
			"SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'smam'",
			true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look for the smam extension");
	found = SPI_processed > 0;
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return found;
}

/* Milliseconds until the next pending delivery falls due (-1: none). */
static long
next_due_ms(void)
{
	long ms = -1;
	bool isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (SPI_execute(
			"SELECT pg_catalog.ceil(pg_catalog.date_part('epoch', pg_catalog.min(next_attempt_at)"
			" OPERATOR(pg_catalog.-) pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.*) "
			"1000)::pg_catalog.int8"
			"  FROM smam.delivery WHERE status OPERATOR(pg_catalog.=) "
			"'pending'::smam.delivery_status",
			true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the next due delivery");
	{
		Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			ms = (long) Max(0, DatumGetInt64(d));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ms;
}

static void
sleep_ms(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1),
					 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}

/*
 * For the worker's whole life, before its first query: the settings
 * privileged.c pins for raised rights, and those that would make its
 * short transactions fail or wait (a database's settings apply to it as to
 * any session, at a lower priority than these).
 */
static void
pin_settings(void)
{
	smam_pin_session_settings();
	SetConfigOption("row_security", "on", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
}

/* The worker's role may not have been made a superuser or BYPASSRLS. */
static void
refuse_raised_rights(void)
{
	bool raised;

	StartTransactionCommand();
	raised = superuser() || has_bypassrls_privilege(GetUserId());
	CommitTransactionCommand();
	if (raised)
		ereport(
			FATAL,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" is a superuser or bypasses row-level security", SMAM_WORKER_ROLE),
			 errdetail("smam's publishing worker runs with only the rights publishing needs."),
			 errhint("ALTER ROLE %s NOSUPERUSER NOBYPASSRLS;", SMAM_WORKER_ROLE)));
}

void
smam_worker_main(Datum arg)
{
	int slot = DatumGetInt32(arg);
	char db[BGW_EXTRALEN];
	bool installed = false;

	strlcpy(db, MyBgworkerEntry->bgw_extra, sizeof(db));
	am_worker = true;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* As its own role (see the top of this file), its settings pinned. */
	BackgroundWorkerInitializeConnection(db, SMAM_WORKER_ROLE, 0);
	pin_settings();
	refuse_raised_rights();
	pgstat_report_appname("smam publishing worker");

	if (shared != NULL && slot >= 0 && slot < SMAM_MAX_WORKERS)
	{
		my_slot = slot;
		SpinLockAcquire(&shared->mutex);
		shared->slots[slot].dbid = MyDatabaseId;
		shared->slots[slot].pid = MyProcPid;
		shared->slots[slot].latch = MyLatch;
		SpinLockRelease(&shared->mutex);
		before_shmem_exit(leave_slot, (Datum) 0);
	}
	elog(LOG, "smam publishing worker started for database \"%s\"", db);

	for (;;)
	{
		int claimed;
		long wait;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (RecoveryInProgress())
		{
			pgstat_report_activity(STATE_IDLE, "idle: hot standby");
			sleep_ms(1000);
			continue;
		}
		/* Checked after each sleep, not between batches. */
		if (!installed && !(installed = extension_installed()))
		{
			pgstat_report_activity(STATE_IDLE, "idle: smam not installed");
			sleep_ms(worker_idle_timeout);
			continue;
		}
		pgstat_report_activity(STATE_RUNNING, "chaining the audit log");
		smam_audit_worker_seal();
		pgstat_report_activity(STATE_RUNNING, "sending deliveries");
		(void) smam_deliver_batch(smam_worker_batch_size, true, &claimed);
		pgstat_report_stat(false);
		if (claimed >= smam_worker_batch_size)
			continue; /* more may be due: no sleep */
		wait = next_due_ms();
		if (wait == 0 && claimed > 0)
			continue;
		if (wait == 0)
			wait = 100; /* due rows are locked by a smam.dispatch() */
		pgstat_report_activity(STATE_IDLE, NULL);
		/* Back at least every smam.audit_seal_interval, to chain the audit log. */
		sleep_ms(Min(wait < 0 ? worker_idle_timeout : Min(wait, (long) worker_idle_timeout),
					 (long) smam_audit_seal_interval));
		installed = false;
	}
}
