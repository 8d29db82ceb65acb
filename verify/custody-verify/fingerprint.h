#pragma once
/* `custody-verify fingerprint FILE [--json] …` (docs/programs.md), kept apart from
 * custody-verify.c because it has options of its own and links ingest/. */

/** Run the command.  @argv[0] is "fingerprint"; options may come before or after FILE.
 * Prints to stdout (and one line to stderr on failure or damage).  Main thread only (it uses
 * getopt_long()).  @return the exit status: 0 intact, 1 damaged (what was read is still
 * printed), 2 usage or system error. */
int vfy_cmd_fingerprint(int argc, char **argv);
