/*
 * smam.h: declarations shared by smam's C sources.
 *
 * Each source file owns one concern: smam.c (module load and settings),
 * refusal.c (the one place a refusal becomes an ereport), offices.c (who
 * holds which office), catalogue.c (the read-only catalogue of the
 * Standard), validation.c (URL checks and normalization).
 */
#ifndef SMAM_H
#define SMAM_H

#include "postgres.h"

#include "fmgr.h"

/* Settings (smam.c). */
extern char *smam_time_zone;

/*
 * Refuse an act: raise ERROR with the given SQLSTATE, a message, a detail
 * that names the requirement of the Standard being enforced (NULL when the
 * refusal enforces no requirement), and a hint saying what to do next.
 * Every refusal of smam goes through here (refusal.c).
 */
extern void smam_refuse(int sqlstate, const char *requirement, const char *message,
						const char *detail, const char *hint) pg_attribute_noreturn();

/* printf-style helper for building refusal texts. */
extern char *smam_format(const char *fmt, ...) pg_attribute_printf(1, 2);

/* The role acting in this session, as set by login or SET ROLE (offices.c). */
extern Oid smam_acting_role(void);

/* true when the role may touch rows of smam's catalogue (catalogue.c). */
extern bool smam_in_extension_script(void);

#endif /* SMAM_H */
