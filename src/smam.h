/*
 * smam.h: declarations shared by smam's C sources.
 *
 * Each source file owns one concern: smam.c (module load and settings),
 * refusal.c (the one place a refusal becomes an ereport), offices.c (who
 * holds which office), catalogue.c (the read-only catalogue of the
 * Standard), validation.c (URL checks and normalization), lifecycle.c (the stages
 * of an account and their guards), approvals.c (approval and review rules),
 * evaluations.c (who evaluates an account and who records its archive).
 */
#ifndef SMAM_H
#define SMAM_H

#include "postgres.h"

#include "fmgr.h"
#include "datatype/timestamp.h"
#include "utils/relcache.h"

/*
 * Memory for what smam keeps for the whole session (caches of the audit and
 * the rules): a child of TopMemoryContext named "smam session", created on
 * first use (smam.c).
 */
extern MemoryContext smam_session_context(void);

/* Settings (smam.c). */
extern char *smam_time_zone;

/*
 * A moment as refusals write it, the same in every session: to the second in
 * smam.time_zone, with the zone's name (as smam.moment_text() in SQL).
 */
extern char *smam_moment_text(TimestampTz t);

/*
 * Refuse an act: raise ERROR with the given SQLSTATE, a message, a detail
 * that names the requirement of the Standard being enforced (NULL when the
 * refusal enforces no requirement), and a hint saying what to do next.
 * Every refusal of smam goes through here (refusal.c).
 */
extern void smam_refuse(int sqlstate, const char *requirement, const char *message,
						const char *detail, const char *hint) pg_attribute_noreturn();

/* The same, leaving the statement out of the server's log (errhidestmt). */
extern void smam_refuse_quietly(int sqlstate, const char *requirement, const char *message,
								const char *detail, const char *hint) pg_attribute_noreturn();

/* printf-style helper for building refusal texts. */
extern char *smam_format(const char *fmt, ...) pg_attribute_printf(1, 2);

/* The role acting in this session, as set by login or SET ROLE (offices.c). */
extern Oid smam_acting_role(void);

/*
 * Does the role hold the office for the department (dept_null: the whole
 * government) at the time? (offices.c; a designate holds
 * head_of_communications within the delegation.)
 */
extern bool smam_role_holds_office(const char *role, const char *office, bool dept_null, int64 dept,
								   TimestampTz at);

/*
 * The office by which the role may change an account of the department at
 * the time (entity_official, head_of_communications, designate,
 * department_staff), or NULL (offices.c). A designate counts only while the
 * delegator's term runs.
 */
extern const char *smam_account_editor_office(const char *role, int64 dept, TimestampTz at);

/*
 * Raised rights, the one way smam takes them (privileged.c): the owner of
 * smam's tables, search_path pinned to "pg_catalog, pg_temp", the settings
 * that change what SQL text means pinned to their defaults, and for reads a
 * restricted security context. enter and leave pair up; an error between
 * them is undone by the (sub)transaction's abort.
 */
typedef struct SmamPrivilege
{
	Oid saved_user;
	int saved_sec;
	int guc_level;
	Oid owner;
} SmamPrivilege;

extern Oid smam_owner(void);
extern bool smam_own_restricted_operation;
extern void smam_privilege_enter(SmamPrivilege *p, bool restricted);
extern void smam_privilege_leave(SmamPrivilege *p);

/* Those settings pinned for the rest of a background process's life. */
extern void smam_pin_session_settings(void);

/*
 * Run an SPI query with those rights (reads restricted), so that the
 * caller's row-level security does not hide the rows a rule depends on and
 * nothing the caller planted is found by name. The caller is connected to
 * SPI.
 */
extern int smam_spi_privileged(const char *sql, int nargs, Oid *types, Datum *values,
							   const char *nulls, bool read_only, long count);

/* The same, reading with the latest snapshot (a check after a lock). */
extern int smam_spi_privileged_latest(const char *sql, int nargs, Oid *types, Datum *values,
									  const char *nulls, long count);

/*
 * Append a row to a sealed record (stage history, decisions): tables whose
 * guard accepts an INSERT only from here (lifecycle.c). Connected to SPI.
 */
extern void smam_write_record(const char *sql, int nargs, Oid *types, Datum *values,
							  const char *nulls);

/* Does the department have an approved departmental strategy in force today? */
extern bool smam_department_has_strategy(int64 dept);

/*
 * Does the strategy stand as a basis today (approved and in force, and for
 * a program strategy its departmental strategy too)? If not, *why says
 * what fails. Locks what it reads (FOR SHARE). approvals.c; connected to SPI.
 */
extern bool smam_basis_in_force(int64 strategy, char **why);

/*
 * true while pg_dump's script restores rows into the table: a superuser
 * session acting as itself (no SECURITY DEFINER function on the stack),
 * row_security off, and the client's statement a COPY FROM into this table
 * (restore.c). Guards let restored INSERTs through.
 */
extern bool smam_restoring_dump(Relation rel);

/* A one-dimensional array of n elements of a type, with NULLs (delivery.c). */
extern Datum smam_make_array(Datum *elems, bool *nulls, int n, Oid type);

/* true when the role may touch rows of smam's catalogue (catalogue.c). */
extern bool smam_in_extension_script(void);

/* The platform management tool (delivery.c, worker.c, http.c). */
#define SMAM_WORKER_ROLE "smam_worker"
extern int smam_worker_batch_size;
extern int smam_index_disappearance_limit;
extern void smam_http_init(void);
extern void smam_delivery_init(void);
extern void smam_worker_init(void);
extern void smam_lifecycle_relcache_inval(Oid relid);
extern int smam_deliver_batch(int max, bool own_transactions, int *claimed);

#endif /* SMAM_H */
