"""Exit 0 when the PostgreSQL server named by the URL in argv[1] accepts a connection."""

import sys

import psycopg

try:
    # The test run creates its own database; reaching the server is what matters.
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except psycopg.Error as error:
    print(f"PostgreSQL: {str(error).strip().splitlines()[0]}", file=sys.stderr)
    sys.exit(1)
