#!/usr/bin/python3
# smam through ODBC, as Excel, Power BI and Tableau reach it: unixODBC and
# psqlODBC (Debian's odbc-postgresql, the Unicode driver psqlodbcw.so), driven
# by pyodbc (python3-pyodbc), over TCP with a password. Run by
# test/perl/19_clients.pl, which sets the environment below and asserts on
# what this prints: one JSON object of what the driver gave.
#
#   SMAM_ODBC_DRIVER                       path of psqlodbcw.so
#   SMAM_HOST, SMAM_PORT, SMAM_DB          where to connect (connection strings)
#   SMAM_ODBC_DSN                          a DSN of odbc.ini (ODBCSYSINI, ODBCINI)
#   SMAM_ANALYST, SMAM_ANALYST_PASSWORD    a login role in smam_analyst
#   SMAM_DEPT, SMAM_DEPT_PASSWORD          a department's head of communications
#   SMAM_DEPT_ID, SMAM_DEPT_FR             that department, its French name
#   SMAM_REFUSED_ACCOUNT                   a planned account of it
#   SMAM_DISPOSE_ODBC                      a planned account this abandons
#   SMAM_NOTE                              the reason given (accented)
import json
import os
import sys

import pyodbc

env = os.environ
out = {'pyodbc': pyodbc.version}


def dsnless(role, password, options=''):
    """A DSN-less connection string: no odbc.ini, no odbcinst.ini needed."""
    return ('Driver=%s;Server=%s;Port=%s;Database=%s;Uid=%s;Pwd=%s;%s'
            % (env['SMAM_ODBC_DRIVER'], env['SMAM_HOST'], env['SMAM_PORT'], env['SMAM_DB'], role, password, options))


def attempt(conn, query, *params):
    cur = conn.cursor()
    try:
        cur.execute(query, *params)
        rows = cur.fetchall() if cur.description else []
        return {'rows': [list(r) for r in rows], 'types': [d[1].__name__ for d in cur.description or []]}
    except pyodbc.Error as e:
        return {'error': list(e.args)}
    finally:
        conn.rollback()


who = "SELECT current_user::text, host(inet_client_addr())"
dept = int(env['SMAM_DEPT_ID'])
analyst = (env['SMAM_ANALYST'], env['SMAM_ANALYST_PASSWORD'])
head = (env['SMAM_DEPT'], env['SMAM_DEPT_PASSWORD'])

# ---- the analyst, DSN-less, the driver's defaults ----
try:
    pyodbc.connect(dsnless(analyst[0], 'not-the-password')).close()
    out['wrong_password'] = 'connected'
except pyodbc.Error as e:
    out['wrong_password'] = list(e.args)
conn = pyodbc.connect(dsnless(*analyst))
out['driver'] = [conn.getinfo(pyodbc.SQL_DRIVER_NAME), conn.getinfo(pyodbc.SQL_DRIVER_VER)]
out['analyst_who'] = attempt(conn, who)
cur = conn.cursor()
# The navigator: what SQLTables lists in smam_report, and whether each opens.
tables = [(t.table_schem, t.table_name, t.table_type, t.remarks) for t in cur.tables(schema='smam_report')]
out['tables'] = sorted([t[1], t[2]] for t in tables)
out['schemas_listed'] = sorted(set(t[0] for t in tables))
out['table_remarks'] = sorted(set(t[3] for t in tables))
out['unreadable'] = {}
for t in tables:
    r = attempt(conn, 'SELECT * FROM smam_report."%s" WHERE false' % t[1].replace('"', '""'))
    if 'error' in r:
        out['unreadable'][t[1]] = r['error']
# What the same navigator lists in smam, and how much of it opens.
listed = [t.table_name for t in conn.cursor().tables(schema='smam')]
out['smam_listed'] = len(listed)
out['smam_readable'] = sum(1 for t in listed
                           if 'error' not in attempt(conn, 'SELECT * FROM smam."%s" WHERE false' % t.replace('"', '""')))
# SQLColumns: the columns, and their remarks (psqlODBC does not read comments).
cols = list(conn.cursor().columns(schema='smam_report', table='compliance_by_department'))
out['columns'] = [[c.column_name, c.type_name] for c in cols]
out['column_remarks'] = sorted(set(c.remarks for c in cols))
# The meanings ODBC cannot carry, from the dictionary view.
out['dictionary_count'] = attempt(conn, 'SELECT count(*) FROM smam_report.data_dictionary')
out['dictionary_row'] = attempt(conn, 'SELECT ordinal, data_type, meaning_en, meaning_fr FROM smam_report.data_dictionary '
                                      'WHERE view_name = ? AND column_name = ?', 'compliance_by_department', 'department_fr')
# Accented text, read and passed as a parameter.
out['department_fr'] = attempt(conn, 'SELECT DISTINCT department_fr FROM smam_report.compliance_by_department '
                                     'WHERE department_id = ?', dept)
out['by_french_name'] = attempt(conn, 'SELECT DISTINCT department_id FROM smam_report.compliance_by_department '
                                      'WHERE department_fr = ?', env['SMAM_DEPT_FR'])
# Booleans and text as the driver declares them by default.
bools = "SELECT not_for_agents_of_parliament FROM smam_report.requirement_catalogue WHERE code = '7.1.2'"
out['bool_default'] = attempt(conn, bools)
text_col = [[c.data_type, c.column_size] for c in conn.cursor().columns(schema='smam_report', table='requirement_catalogue')
            if c.column_name == 'text']
out['text_default'] = text_col
out['text_longest'] = attempt(conn, 'SELECT max(length(text)) FROM smam_report.requirement_catalogue')
conn.close()

# The options that change what a BI tool sees.
conn = pyodbc.connect(dsnless(*analyst, 'BoolsAsChar=0;'))
out['bool_off'] = attempt(conn, bools)
conn.close()
conn = pyodbc.connect(dsnless(*analyst, 'TextAsLongVarchar=0;'))
out['text_varchar'] = [[c.data_type, c.column_size]
                       for c in conn.cursor().columns(schema='smam_report', table='requirement_catalogue')
                       if c.column_name == 'text']
conn.close()

# ---- the analyst through the DSN of odbc.ini ----
conn = pyodbc.connect('DSN=%s;Uid=%s;Pwd=%s;' % (env['SMAM_ODBC_DSN'], analyst[0], analyst[1]))
out['dsn_who'] = attempt(conn, who)
out['dsn_bool'] = attempt(conn, bools)
out['dsn_text'] = [[c.data_type, c.column_size]
                   for c in conn.cursor().columns(schema='smam_report', table='requirement_catalogue')
                   if c.column_name == 'text']
out['dsn_department_fr'] = attempt(conn, 'SELECT DISTINCT department_fr FROM smam_report.compliance_by_department '
                                         'WHERE department_fr = ?', env['SMAM_DEPT_FR'])
conn.close()

# ---- the department's head of communications ----
conn = pyodbc.connect(dsnless(*head))
out['dept_who'] = attempt(conn, who)
out['dept_report_schema'] = attempt(conn, 'SELECT count(*) FROM smam_report.compliance_rule')
out['refusal'] = attempt(conn, 'SELECT smam.transition(?, ?)', int(env['SMAM_REFUSED_ACCOUNT']), 'creation')
cur = conn.cursor()
cur.execute('SELECT smam.transition(?, ?, ?)', int(env['SMAM_DISPOSE_ODBC']), 'disposed', env['SMAM_NOTE'] + ' (ODBC)')
out['transition'] = cur.fetchone()[0]
conn.commit()
conn.close()
# Without server-side prepare the driver writes the parameters into the
# query as literals: the stage still resolves (the refusal, not 42883).
conn = pyodbc.connect(dsnless(*head, 'UseServerSidePrepare=0;'))
out['refusal_no_prepare'] = attempt(conn, 'SELECT smam.transition(?, ?)', int(env['SMAM_REFUSED_ACCOUNT']), 'creation')
conn.close()

json.dump(out, sys.stdout, sort_keys=True)
print()
