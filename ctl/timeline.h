#pragma once
/* The timeline of one device of a case review (docs/timeline.md): its clips in clusters, each
 * cluster on its own time scale, with a labelled break for every gap between them, so that every
 * clip and every gap stays visible whatever the span; drawn as inline SVG (the HTML page) or with
 * cairo (the PDF), with a legend.  Greyscale carries every meaning: each status has its own fill
 * pattern and its own word.
 *
 * tl_build() is a pure function of the device object (docs/review-format.md, devices[]), the
 * display zone, the language (gettext) and the width: the layout holds every position (mm) and
 * every string, so tl_svg() and tl_cairo() only paint it.  A layout is immutable once built:
 * any thread may read it; each function is safe to call from any thread. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cairo.h>
#include <jansson.h>

struct ing_tz;
struct tl_layout;

/* What a box shows: one per clip (the worst that applies), one per gap. */
enum tl_status {
	TL_ON_TIME,	    /* stored on time */
	TL_REMOTE,	    /* on time after a remote-duty declaration */
	TL_LATE_EXPLAINED,  /* stored late, a late_storage annotation explains it */
	TL_LATE,	    /* stored late, unexplained */
	TL_UNKNOWN_TIME,    /* no trustworthy recording time (unknown or in the future) */
	TL_DAMAGED,	    /* a damaged file */
	TL_ALTERED,	    /* the original is altered or missing */
	TL_PURGED,	    /* the original was purged */
	TL_GAP_EXPLAINED,   /* a gap an interruption explains */
	TL_GAP_UNEXPLAINED, /* a gap nothing explains */
	TL__N
};

enum tl_fill {
	TL_FILL_SOLID,
	TL_FILL_DOTS,
	TL_FILL_HATCH_UP,   /* lines rising to the right: / */
	TL_FILL_HATCH_DOWN, /* lines falling to the right: \ */
	TL_FILL_VLINES,
	TL_FILL_HLINES,
	TL_FILL_CROSS, /* both diagonals */
	TL_FILL_GRID,  /* vertical and horizontal lines */
	TL_FILL_NONE,  /* white, dashed outline */
};

/* How a status is painted; sizes in mm, colours 0xRRGGBB. */
struct tl_pattern {
	enum tl_fill fill;
	double spacing, line; /* between lines or dots; line width or dot radius */
	uint32_t bg, fg;
};

enum tl_box_kind {
	TL_BOX_CLIP,	/* a clip's bar */
	TL_BOX_BREAK,	/* a gap between two clusters */
	TL_BOX_CLUSTER, /* the frame of (a row's part of) a cluster */
	TL_BOX_LABEL,	/* text on a white ground: a clip or a run of clips, a time, a note */
};

enum {
	TL_F_UNKNOWN_LENGTH = 1u << 0, /* a clip whose end is unknown: drawn with a "?" extent */
	TL_F_CONT_LEFT = 1u << 1,      /* the cluster began on the row before */
	TL_F_CONT_RIGHT = 1u << 2,     /* the cluster goes on on the next row */
	TL_F_UNTIMED = 1u << 3,	       /* in the group of clips without a trustworthy time */
	TL_F_BOLD = 1u << 4,	       /* a label that says something open */
	TL_F_NO_GAP = 1u << 5,	       /* a break where no gap is checked: blank */
};

/* One thing drawn, in mm from the timeline's top left corner. */
struct tl_box {
	enum tl_box_kind kind;
	enum tl_status status; /* CLIP, BREAK; a LABEL's for its leader line */
	unsigned flags;
	unsigned row;
	double x, y, w, h;
	size_t ref;	  /* CLIP: position in clips[]; BREAK: in gaps[]; else (size_t)-1 */
	int64_t entry;	  /* CLIP: its log index (-1 unknown); BREAK: the clip after the gap */
	const char *text; /* LABEL: one or more lines separated by '\n'; else NULL */
	double leader_x;  /* LABEL: where its leader line meets the bar above (x < 0: none) */
	double leader_y;  /* LABEL: the bottom of that bar */
	double font;	  /* LABEL: font size in mm */
	int align;	  /* LABEL: -1 left, 0 centred, 1 right */
};

/** Lay out the timeline of @device (one object of a review's devices[]) for a width of
 * @width_mm (at least 60; wider rows hold more clusters), with times in @tz (NULL: UTC).
 * Malformed or missing fields never fail: a clip without a usable time goes to the group "no
 * trustworthy time", a gap without one is shown there too.  *@ret is the caller's (tl_free()).
 * @return 0, -EINVAL (@device not an object, @width_mm too small), -ENOMEM. */
int tl_build(const json_t *device, const struct ing_tz *tz, double width_mm,
	     struct tl_layout **ret);

/** Release @l; NULL is fine.  @return NULL. */
struct tl_layout *tl_free(struct tl_layout *l);

/** The layout's size in mm. */
double tl_width_mm(const struct tl_layout *l);
double tl_height_mm(const struct tl_layout *l);

/** The rows, top to bottom (at least 1), so that a page can split a tall timeline between
 * rows: row @row spans tl_row_top(@row) to tl_row_top(@row + 1); tl_row_top(tl_rows()) is
 * tl_height_mm().  The first row carries the line that says the zone. */
unsigned tl_rows(const struct tl_layout *l);
double tl_row_top(const struct tl_layout *l, unsigned row);

/** Every box, in painting order (clusters, breaks, clips, labels); valid as long as @l. */
const struct tl_box *tl_boxes(const struct tl_layout *l, size_t *ret_n);

/** Write the timeline as one inline <svg> element whose user unit is 1 mm (viewBox in mm,
 * width and height in mm); its pattern ids are unique within the process, so several may share
 * a page.  Strings are escaped for HTML and XML.  @return 0, -EIO (a write failed). */
int tl_svg(const struct tl_layout *l, FILE *out);
/** Only rows @row0 to @row1 (excluded), the top of @row0 at the top of the <svg>. */
int tl_svg_rows(const struct tl_layout *l, unsigned row0, unsigned row1, FILE *out);

/** Paint the timeline with its top left corner at (@x_mm, @y_mm); the caller has scaled @cr so
 * that one unit is 1 mm.  Text through pango, "Noto Sans CJK SC" first.  The state of @cr is
 * restored. */
void tl_cairo(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm);
/** Only rows @row0 to @row1 (excluded), the top of @row0 at @y_mm. */
void tl_cairo_rows(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm, unsigned row0,
		   unsigned row1);

/** The legend: a swatch of every status with its pattern and its word, and what the breaks,
 * the "?" extent and the clusters' own scales mean.  @width_mm as for tl_build(). */
double tl_legend_height_mm(double width_mm);
int tl_legend_svg(double width_mm, FILE *out);
void tl_legend_cairo(cairo_t *cr, double x_mm, double y_mm, double width_mm);

/** A swatch of @s alone (its pattern, no word), e.g. beside a status word in a table: an
 * inline <svg> of @w_mm × @h_mm, or painted at (@x_mm, @y_mm) as tl_cairo() does. */
int tl_swatch_svg(enum tl_status s, double w_mm, double h_mm, FILE *out);
void tl_swatch_cairo(enum tl_status s, cairo_t *cr, double x_mm, double y_mm, double w_mm,
		     double h_mm);

/** How @s is painted, and its word in the current language (static strings). */
const struct tl_pattern *tl_pattern(enum tl_status s);
const char *tl_status_word(enum tl_status s);
