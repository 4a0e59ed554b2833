#!/usr/bin/python3
# smam through libpq's Python drivers, as applications and analysts use them:
# psycopg 3 (Debian's python3-psycopg) and psycopg 2 (python3-psycopg2), over
# TCP with a password. Run by test/perl/19_clients.pl, which sets the
# environment below and asserts on what this prints: one JSON object of what
# each driver saw. Nothing is asserted here, so that every expected value is
# in the Perl test, next to the data it made.
#
#   SMAM_HOST, SMAM_PORT, SMAM_DB          where to connect
#   SMAM_ANALYST, SMAM_ANALYST_PASSWORD    a login role in smam_analyst
#   SMAM_DEPT, SMAM_DEPT_PASSWORD          a department's head of communications
#   SMAM_DEPT_ID                           that department
#   SMAM_DEPT_FR                           its French name (accented)
#   SMAM_REFUSED_ACCOUNT                   a planned account of it
#   SMAM_DISPOSE_3, SMAM_DISPOSE_2         planned accounts psycopg 3 and 2 abandon
#   SMAM_NOTE                              the reason they give (accented)
import json
import os
import sys

import psycopg
import psycopg2
import psycopg2.extensions
from psycopg.adapt import PyFormat

env = os.environ
out = {}


def conninfo(role, password):
    return dict(host=env['SMAM_HOST'], port=int(env['SMAM_PORT']), dbname=env['SMAM_DB'],
                user=role, password=password)


def error3(e):
    """What psycopg 3 gives of a server's error."""
    return {'sqlstate': e.sqlstate, 'primary': e.diag.message_primary,
            'detail': e.diag.message_detail, 'hint': e.diag.message_hint, 'text': str(e)}


def error2(e):
    """What psycopg 2 gives of a server's error."""
    return {'sqlstate': e.pgcode, 'primary': e.diag.message_primary,
            'detail': e.diag.message_detail, 'hint': e.diag.message_hint, 'text': e.pgerror}


def try3(conn, query, params=()):
    cur = conn.cursor()
    try:
        cur.execute(query, params)
        return {'rows': [list(r) for r in cur.fetchall()]}
    except psycopg.Error as e:
        return {'error': error3(e)}
    finally:
        conn.rollback()


def try2(conn, query, params=()):
    cur = conn.cursor()
    try:
        cur.execute(query, params)
        return {'rows': [list(r) for r in cur.fetchall()]}
    except psycopg2.Error as e:
        return {'error': error2(e)}
    finally:
        conn.rollback()


dept = int(env['SMAM_DEPT_ID'])
refused = int(env['SMAM_REFUSED_ACCOUNT'])
who = 'SELECT current_user::text, host(inet_client_addr()), current_setting(\'client_encoding\')'

# ---- psycopg 3, the analyst ----
p3 = out['psycopg3'] = {'version': psycopg.__version__}
try:
    psycopg.connect(**conninfo(env['SMAM_ANALYST'], 'not-the-password')).close()
    p3['wrong_password'] = 'connected'
except psycopg.OperationalError as e:
    p3['wrong_password'] = str(e)
conn = psycopg.connect(**conninfo(env['SMAM_ANALYST'], env['SMAM_ANALYST_PASSWORD']))
p3['analyst_who'] = try3(conn, who)
# A reporting view: the department's French name, read back, and found by an
# accented parameter.
p3['analyst_department_fr'] = try3(conn, 'SELECT DISTINCT department_fr FROM smam_report.compliance_by_department '
                                         'WHERE department_id = %s', (dept,))
p3['analyst_by_french_name'] = try3(conn, 'SELECT DISTINCT department_id FROM smam_report.compliance_by_department '
                                          'WHERE department_fr = %s', (env['SMAM_DEPT_FR'],))
p3['analyst_departments'] = try3(conn, 'SELECT count(DISTINCT department_id) FROM smam_report.compliance_by_department')
p3['analyst_findings'] = try3(conn, 'SELECT requirement, problem FROM smam_report.compliance_findings '
                                    'WHERE department_id = %s ORDER BY requirement, problem', (dept,))
p3['analyst_dictionary'] = try3(conn, 'SELECT count(*) FROM smam_report.data_dictionary')
conn.close()

# ---- psycopg 3, the department's head of communications ----
conn = psycopg.connect(**conninfo(env['SMAM_DEPT'], env['SMAM_DEPT_PASSWORD']))
p3['dept_who'] = try3(conn, who)
p3['dept_report_schema'] = try3(conn, 'SELECT count(*) FROM smam_report.compliance_rule')
p3['dept_own'] = try3(conn, 'SELECT count(DISTINCT department_id), min(department_fr) FROM smam.compliance_by_department')
# How psycopg 3 binds a Python str: with %s, as "unknown" (OID 0), so that the
# server gives it the parameter's type (smam.stage); with %b, as text.
dumper = conn.adapters.get_dumper(str, PyFormat.AUTO)
p3['str_dumper'] = [dumper.__name__, dumper.oid]
p3['refusal'] = try3(conn, 'SELECT smam.transition(%s, %s)', (refused, 'creation'))
p3['str_as_text'] = try3(conn, 'SELECT smam.transition(%s, %b, %s)', (int(env['SMAM_DISPOSE_3']), 'disposed', 'x'))
cur = conn.cursor()
cur.execute('SELECT smam.transition(%s, %s, %s)', (int(env['SMAM_DISPOSE_3']), 'disposed', env['SMAM_NOTE'] + ' (psycopg 3)'))
p3['transition'] = [cur.fetchone()[0], cur.description[0].type_code]
conn.commit()
p3['transition_read'] = try3(conn, 'SELECT stage::text, stage_note FROM smam.account WHERE id = %s',
                             (int(env['SMAM_DISPOSE_3']),))
conn.close()

# ---- psycopg 2: parameters are merged into the query text on the client, as
# quoted literals, so a str is an untyped literal and takes smam.stage ----
p2 = out['psycopg2'] = {'version': psycopg2.__version__.split(' ')[0]}
conn = psycopg2.connect(**conninfo(env['SMAM_ANALYST'], env['SMAM_ANALYST_PASSWORD']))
p2['analyst_who'] = try2(conn, who)
p2['analyst_department_fr'] = try2(conn, 'SELECT DISTINCT department_fr FROM smam_report.compliance_by_department '
                                         'WHERE department_fr = %s', (env['SMAM_DEPT_FR'],))
conn.close()
conn = psycopg2.connect(**conninfo(env['SMAM_DEPT'], env['SMAM_DEPT_PASSWORD']))
p2['dept_report_schema'] = try2(conn, 'SELECT count(*) FROM smam_report.compliance_rule')
p2['refusal'] = try2(conn, 'SELECT smam.transition(%s, %s)', (refused, 'creation'))
p2['query_sent'] = conn.cursor().mogrify('SELECT smam.transition(%s, %s, %s)',
                                         (int(env['SMAM_DISPOSE_2']), 'disposed', 'é')).decode('utf-8')
cur = conn.cursor()
cur.execute('SELECT smam.transition(%s, %s, %s)', (int(env['SMAM_DISPOSE_2']), 'disposed', env['SMAM_NOTE'] + ' (psycopg 2)'))
p2['transition'] = cur.fetchone()[0]
conn.commit()
conn.close()

json.dump(out, sys.stdout, sort_keys=True)
print()
