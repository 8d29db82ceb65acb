#pragma once
/* A printable page as data (docs/pages.md): what ctl/record.c builds from a review or a
 * history once, and what ctl/html.c and ctl/pdf.c both paint, so that the HTML page and the PDF
 * say the same thing.  Blocks follow each other down the page: headings, paragraphs, boxes,
 * tables (a row may carry a full-width detail line under its cells), timelines and a form to
 * fill in by hand.  Text is runs of one style each.
 *
 * Every string is copied in, already localised, and made safe on the way: invalid UTF-8, NUL,
 * control characters other than tab and newline, bidi controls and noncharacters become U+FFFD
 * (utf8_is_unsafe()), so a renderer only has to escape what its own syntax needs.  Building
 * never fails half-way: an allocation failure marks the document (ctl_doc_failed()) and the
 * builder calls after it do nothing.  One thread per document; no global state. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ing_tz;

/* What a run, a row or a box says about the evidence; renderers give each a look that stays
 * distinct in greyscale (frame, weight, border), never colour alone. */
enum ctl_tone {
	CTL_TONE_NONE,
	CTL_TONE_OK,   /* as it should be: stored on time, intact, complete */
	CTL_TONE_NOTE, /* neutral fact worth a frame: not checked, other case */
	CTL_TONE_WARN, /* closed but to weigh: explained late, reported damage, reservations */
	CTL_TONE_BAD,  /* open: the reviewer cannot rely on it as it is */
};

enum {
	CTL_RUN_BOLD = 1u << 0,
	CTL_RUN_MONO = 1u << 1,	 /* hashes, commands, roots */
	CTL_RUN_BADGE = 1u << 2, /* a status word in a frame; never broken across lines */
};

enum {
	CTL_PARA_SMALL = 1u << 0,  /* a detail line: smaller, after the main text */
	CTL_PARA_BULLET = 1u << 1, /* an item of a list */
	CTL_PARA_LARGE = 1u << 2,  /* the headline of a box */
};

struct ctl_run {
	char *text;
	unsigned flags;
	enum ctl_tone tone;
};

struct ctl_para {
	struct ctl_run *runs;
	size_t n, cap;
	unsigned flags;
};

/* A cell, a box or a text block: paragraphs one under the other. */
struct ctl_cell {
	struct ctl_para *paras;
	size_t n, cap;
};

struct ctl_row {
	struct ctl_cell *cells; /* ncols of them */
	struct ctl_cell detail; /* under the cells, across the whole table; may be empty */
	enum ctl_tone tone;	/* CTL_TONE_BAD marks an open row */
	char *anchor;		/* an id to link to ("e8"), or NULL */
};

struct ctl_table {
	size_t ncols;
	double *widths;	       /* fractions of the width, summing to 1 */
	struct ctl_cell *head; /* ncols header cells, or NULL for a key/value table */
	struct ctl_row *rows;
	size_t nrows, cap;
	bool kv; /* two columns, the first a label */
};

enum ctl_block_kind {
	CTL_BLOCK_HEADING, /* level 1..3, text in .text */
	CTL_BLOCK_TEXT,	   /* paragraphs */
	CTL_BLOCK_BOX,	   /* paragraphs in a frame of .tone (the verdict, a warning) */
	CTL_BLOCK_TABLE,
	CTL_BLOCK_TIMELINE, /* .device (borrowed from the answer) drawn by ctl/timeline.h */
	CTL_BLOCK_LEGEND,   /* the timeline's legend */
	CTL_BLOCK_FORM,	    /* .fields: labelled blank lines for a pen */
};

struct ctl_field {
	char *label;
	unsigned lines; /* blank lines to write on */
};

struct ctl_block {
	enum ctl_block_kind kind;
	unsigned level;
	enum ctl_tone tone;
	char *id; /* an anchor, or NULL */
	struct ctl_cell text;
	struct ctl_table table;
	const json_t *device;
	struct ctl_field *fields;
	size_t nfields;
};

struct ctl_doc {
	char *lang;		 /* BCP 47 tag for the HTML page's lang */
	char *title;		 /* the document's title (HTML <title>, PDF metadata) */
	char *running;		 /* left of every printed page's header: "Case review 2026-0042" */
	char *running_right;	 /* right of it: the moment the record was made */
	char *footer;		 /* left of every page's footer: the log and checkpoint */
	char *page_of;		 /* "page %u of %u", translated: the page and the number of pages */
	const struct ing_tz *tz; /* times on the timelines */
	struct ctl_block *blocks;
	size_t n, cap;
	bool failed;
};

/** A new, empty document (NULL when out of memory); ctl_doc_free() it. */
struct ctl_doc *ctl_doc_new(void);
struct ctl_doc *ctl_doc_free(struct ctl_doc *d);
/** True when an allocation failed while building: the document is incomplete. */
bool ctl_doc_failed(const struct ctl_doc *d);

/** Replace *@field (a string of @d) with a safe copy of @s (unsafe characters as U+FFFD). */
void ctl_doc_set(struct ctl_doc *d, char **field, const char *s);

/** Append a block; the returned pointer is valid until the next block is appended, and NULL
 * once the document failed. */
struct ctl_block *ctl_doc_heading(struct ctl_doc *d, unsigned level, const char *id,
				  const char *text);
struct ctl_cell *ctl_doc_text(struct ctl_doc *d);
struct ctl_cell *ctl_doc_box(struct ctl_doc *d, enum ctl_tone tone);
/** A table of @ncols columns of @widths (fractions); @head: whether it has a header row. */
struct ctl_table *ctl_doc_table(struct ctl_doc *d, size_t ncols, const double *widths, bool head);
/** A key/value table; rows through ctl_doc_kv(). */
struct ctl_table *ctl_doc_kv_table(struct ctl_doc *d);
void ctl_doc_timeline(struct ctl_doc *d, const json_t *device);
void ctl_doc_legend(struct ctl_doc *d);
void ctl_doc_field(struct ctl_doc *d, const char *label, unsigned lines);

/** Header cell @i of @t (NULL when the document failed). */
struct ctl_cell *ctl_table_head(struct ctl_doc *d, struct ctl_table *t, size_t i);
struct ctl_row *ctl_table_row(struct ctl_doc *d, struct ctl_table *t, enum ctl_tone tone,
			      const char *anchor);
/** A key/value row: the label's paragraph holds @key; the value cell is returned. */
struct ctl_cell *ctl_doc_kv(struct ctl_doc *d, struct ctl_table *t, const char *key);

/** A new paragraph at the end of @c (NULL when @c is NULL or the document failed). */
struct ctl_para *ctl_cell_para(struct ctl_doc *d, struct ctl_cell *c, unsigned flags);
/** Append @len bytes of @s as one run. */
void ctl_para_addn(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		   const char *s, size_t len);
void ctl_para_add(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		  const char *s);
void ctl_para_addf(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/** A paragraph of one plain run: the common case. */
struct ctl_para *ctl_cell_line(struct ctl_doc *d, struct ctl_cell *c, unsigned flags,
			       const char *s);

/** The text of @c's paragraphs, runs joined, paragraphs separated by '\n', malloc()'d (for
 * tests and for renderers that need it whole).  NULL when out of memory. */
char *ctl_cell_plain(const struct ctl_cell *c);
