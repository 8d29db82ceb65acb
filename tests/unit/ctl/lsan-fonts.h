#pragma once
/* Included once by each unit test that draws text with cairo and pango.  Under LeakSanitizer
 * (scripts/test's sanitizer run): cairo 1.16 loses buffers of the font subsets it writes when a
 * PDF surface is finished, and fontconfig keeps pattern values of the fonts pango asked for;
 * neither is memory of ours, nor grows with what is drawn. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcairo.so\nleak:libfontconfig.so\n";
}
