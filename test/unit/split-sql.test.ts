import { describe, expect, it } from "vitest"
import { splitSqlStatements } from "../../src/core/db/split-sql.ts"

describe("splitSqlStatements", () => {
  it("splits on top-level semicolons and drops empty statements", () => {
    expect(splitSqlStatements("CREATE TABLE a (x int);\n\nINSERT INTO a VALUES (1);  ;")).toEqual([
      "CREATE TABLE a (x int)",
      "INSERT INTO a VALUES (1)"
    ])
  })

  it("keeps semicolons inside strings, quoted identifiers and comments", () => {
    const sql = `INSERT INTO t VALUES ('a;b', 'it''s;'); -- trailing; comment
SELECT "odd;name" FROM t /* block; comment */;`
    const parts = splitSqlStatements(sql)
    expect(parts).toHaveLength(2)
    expect(parts[0]).toBe("INSERT INTO t VALUES ('a;b', 'it''s;')")
    expect(parts[1]).toContain('"odd;name"')
  })

  it("keeps dollar-quoted function bodies whole", () => {
    const sql = `CREATE FUNCTION f() RETURNS trigger AS $fn$
BEGIN
  RAISE EXCEPTION 'no; never';
  RETURN NULL;
END;
$fn$ LANGUAGE plpgsql;
CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f();`
    const parts = splitSqlStatements(sql)
    expect(parts).toHaveLength(2)
    expect(parts[0]).toContain("RETURN NULL;")
    expect(parts[0]?.endsWith("LANGUAGE plpgsql")).toBe(true)
  })

  it("ignores a file of comments only", () => {
    expect(splitSqlStatements("-- nothing here;\n/* nor; here */\n")).toEqual([])
  })
})
