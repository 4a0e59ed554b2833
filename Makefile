# smam: PGXS build. The version lives only in smam.control (default_version).
PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)

EXTENSION  = smam
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" smam.control)

MODULE_big = smam
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
SHLIB_LINK = -lcurl
PG_CFLAGS  = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# The install script of the current version is assembled from the ordered
# fragments in sql/smam/. Released versions are kept as they shipped: their
# full scripts in sql/releases/, the update scripts between them in
# sql/updates/ (docs/upgrading.md). A kept copy of the current version is
# the same bytes as the assembled one (test/perl/17_upgrade.pl checks it).
SCRIPT_PARTS = $(sort $(wildcard sql/smam/*.sql))
DATA_built   = sql/smam--$(EXTVERSION).sql
DATA         = $(filter-out %/smam--$(EXTVERSION).sql,$(wildcard sql/releases/smam--*.sql)) \
               $(wildcard sql/updates/smam--*--*.sql)

# pg_regress: every sql/NAME.sql that has an expected/NAME.out, in name order.
REGRESS      = $(sort $(basename $(notdir $(wildcard expected/*.out))))
REGRESS_OPTS = --inputdir=.

EXTRA_CLEAN = sql/smam--$(EXTVERSION).sql results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on every header: a changed struct rebuilds all of them.
$(OBJS): $(wildcard src/*.h)

sql/smam--$(EXTVERSION).sql: $(SCRIPT_PARTS) smam.control
	{ printf -- '-- smam %s: generated from sql/smam/*.sql by make; edit the fragments.\n' '$(EXTVERSION)'; \
	  printf -- '\\echo Use "CREATE EXTENSION smam" to load this file. \\quit\n'; \
	  for f in $(SCRIPT_PARTS); do printf -- '\n-- ---- %s ----\n' "$$f"; cat "$$f"; done; } > $@

.PHONY: test demo bench format
test:
	@bash test/lib/run-tests.sh

demo:
	@bash test/lib/demo.sh

bench:
	@bash test/lib/bench.sh

format:
	clang-format -i src/*.c src/*.h
