// smam through pgJDBC (Debian's libpostgresql-jdbc-java), over TCP with a
// password, run as a single source file:
//   java -cp /usr/share/java/postgresql.jar test/clients/JdbcProbe.java
// Run by test/perl/19_clients.pl, which sets the environment below and
// asserts on what this prints: one JSON object of what the driver gave.
//
//   SMAM_HOST, SMAM_PORT, SMAM_DB          where to connect
//   SMAM_ANALYST, SMAM_ANALYST_PASSWORD    a login role in smam_analyst
//   SMAM_DEPT, SMAM_DEPT_PASSWORD          a department's head of communications
//   SMAM_REFUSED_ACCOUNT                   a planned account of its department
//   SMAM_DISPOSE_CAST, SMAM_DISPOSE_UNSPECIFIED  planned accounts this abandons
//   SMAM_NOTE                              the reason given (accented)
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

public class JdbcProbe {
  static final Map<String, Object> out = new TreeMap<>();

  static Connection connect(String role, String password, String query) throws SQLException {
    String url = "jdbc:postgresql://" + System.getenv("SMAM_HOST") + ":" + System.getenv("SMAM_PORT") + "/"
        + System.getenv("SMAM_DB") + query;
    Properties p = new Properties();
    p.setProperty("user", role);
    p.setProperty("password", password);
    Connection c = DriverManager.getConnection(url, p);
    c.setAutoCommit(false);
    return c;
  }

  static Map<String, Object> error(SQLException e) {
    Map<String, Object> m = new TreeMap<>();
    m.put("sqlstate", e.getSQLState());
    m.put("text", e.getMessage());
    if (e instanceof PSQLException && ((PSQLException) e).getServerErrorMessage() != null) {
      ServerErrorMessage s = ((PSQLException) e).getServerErrorMessage();
      m.put("primary", s.getMessage());
      m.put("detail", s.getDetail());
      m.put("hint", s.getHint());
    }
    return m;
  }

  // The first column of every row, or the error.
  static Map<String, Object> attempt(Connection c, String sql, Object... params) throws SQLException {
    Map<String, Object> m = new TreeMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        if (params[i] instanceof Long) ps.setLong(i + 1, (Long) params[i]);
        else ps.setString(i + 1, (String) params[i]);
      }
      List<Object> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) rows.add(rs.getString(1));
      }
      m.put("rows", rows);
      c.commit();
    } catch (SQLException e) {
      m.put("error", error(e));
      c.rollback();
    }
    return m;
  }

  public static void main(String[] args) throws Exception {
    String analyst = System.getenv("SMAM_ANALYST"), analystPassword = System.getenv("SMAM_ANALYST_PASSWORD");
    String head = System.getenv("SMAM_DEPT"), headPassword = System.getenv("SMAM_DEPT_PASSWORD");
    long refused = Long.parseLong(System.getenv("SMAM_REFUSED_ACCOUNT"));
    String note = System.getenv("SMAM_NOTE");
    String transition = "SELECT smam.transition(?, ?, ?)";

    // The analyst: the navigator of a JDBC tool lists smam_report's views, and
    // pgJDBC reads their comments (REMARKS).
    try (Connection c = connect(analyst, analystPassword, "")) {
      out.put("driver", c.getMetaData().getDriverVersion());
      out.put("analyst_who", attempt(c, "SELECT current_user || ' ' || host(inet_client_addr())"));
      DatabaseMetaData md = c.getMetaData();
      Map<String, Object> tables = new TreeMap<>();
      try (ResultSet rs = md.getTables(null, "smam_report", "%", null)) {
        while (rs.next()) tables.put(rs.getString("TABLE_NAME"), rs.getString("REMARKS"));
      }
      out.put("tables", tables);
      Map<String, Object> columns = new TreeMap<>();
      try (ResultSet rs = md.getColumns(null, "smam_report", "compliance_by_department", "%")) {
        while (rs.next()) columns.put(rs.getString("COLUMN_NAME"), rs.getString("REMARKS"));
      }
      out.put("columns", columns);
      out.put("analyst_department_fr", attempt(c,
          "SELECT DISTINCT department_fr FROM smam_report.compliance_by_department WHERE department_id = ?",
          Long.parseLong(System.getenv("SMAM_DEPT_ID"))));
    }

    // The head of communications: setString sends varchar, which no function
    // taking smam.stage accepts; a cast in the SQL, or stringtype=unspecified
    // in the URL, lets the server type the parameter.
    try (Connection c = connect(head, headPassword, "")) {
      out.put("dept_who", attempt(c, "SELECT current_user || ' ' || host(inet_client_addr())"));
      out.put("varchar", attempt(c, transition, Long.parseLong(System.getenv("SMAM_DISPOSE_CAST")), "disposed", note));
      out.put("cast", attempt(c, "SELECT smam.transition(?, ?::smam.stage, ?)",
          Long.parseLong(System.getenv("SMAM_DISPOSE_CAST")), "disposed", note + " (JDBC, cast)"));
      out.put("report_schema", attempt(c, "SELECT count(*) FROM smam_report.compliance_rule"));
    }
    try (Connection c = connect(head, headPassword, "?stringtype=unspecified")) {
      out.put("unspecified", attempt(c, transition,
          Long.parseLong(System.getenv("SMAM_DISPOSE_UNSPECIFIED")), "disposed", note + " (JDBC, stringtype=unspecified)"));
      out.put("refusal", attempt(c, "SELECT smam.transition(?, ?)", refused, "creation"));
      out.put("notes", attempt(c, "SELECT stage || ': ' || stage_note FROM smam.account WHERE id IN (?, ?) ORDER BY id",
          Long.parseLong(System.getenv("SMAM_DISPOSE_CAST")), Long.parseLong(System.getenv("SMAM_DISPOSE_UNSPECIFIED"))));
    }
    System.out.println(json(out));
  }

  // JSON, non-ASCII written as \\u escapes: no question of the console's encoding.
  static String json(Object o) {
    if (o == null) return "null";
    if (o instanceof Map) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
        if (b.length() > 1) b.append(',');
        b.append(json(e.getKey().toString())).append(':').append(json(e.getValue()));
      }
      return b.append('}').toString();
    }
    if (o instanceof List) {
      StringBuilder b = new StringBuilder("[");
      for (Object x : (List<?>) o) {
        if (b.length() > 1) b.append(',');
        b.append(json(x));
      }
      return b.append(']').toString();
    }
    StringBuilder b = new StringBuilder("\"");
    for (char ch : o.toString().toCharArray()) {
      if (ch == '"' || ch == '\\') b.append('\\').append(ch);
      else if (ch < 0x20 || ch > 0x7e) b.append(String.format("\\u%04x", (int) ch));
      else b.append(ch);
    }
    return b.append('"').toString();
  }
}
