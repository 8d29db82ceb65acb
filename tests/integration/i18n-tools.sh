#!/bin/bash
# The programs other than custodyctl in the reader's language (docs/i18n.md): custody-verify,
# custody-log, custody-witness and custodyd's --help and --check-config, each run with
# LANG=zh_CN.UTF-8 and LANG=C.UTF-8, must say the same thing in Chinese and in English; --json
# output (and what goes with it on stderr) must be the same bytes in both; custodyd and a
# serving custody-witness, which never set the locale, must stay English under zh_CN; and
# po/zh_CN.po must translate every message of those programs' sources, none fuzzy.
#
# meson passes CUSTODY_LOG, CUSTODY_VERIFY, CUSTODYD, CUSTODY_WITNESS and SOURCE_ROOT.  The
# programs read the build's own catalogues (base/i18n.c).
set -eu
: "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}" "${CUSTODYD:?}" "${CUSTODY_WITNESS:?}" "${SOURCE_ROOT:?}"
. "$(dirname "$0")/../lib.sh"
cd "$tmp"
unset LC_ALL LC_MESSAGES LANGUAGE

# The sources whose messages po/zh_CN.po translates (po/POTFILES lists them too).
tools_sources=(conf/conf.c conf/inifile.c daemon/main.c daemon/witness.c
	verify/custody-verify/custody-verify.c verify/custody-verify/fingerprint.c
	verify/custody-verify/monitor.c verify/custody-log/custody-log.c verify/note.c
	verify/proof.c witness/main.c witness/config.c witness/witness.c verify/entry.c
	verify/hash.c verify/merkle.c verify/publish.c verify/tiles.c verify/tlog.c
	ingest/namepattern.c ingest/tz.c)

# ---- the catalogue ------------------------------------------------------------------------
po=$SOURCE_ROOT/po/zh_CN.po
need msgfmt xgettext msgcmp
if stats=$(msgfmt --check --statistics -o /dev/null "$po" 2>&1); then
	stats=$(printf '%s\n' "$stats" | grep 'translated message')
	if [[ $stats == *fuzzy* || $stats == *untranslated* ]]; then
		bad "po/zh_CN.po is not complete: $stats"
	else
		ok "po/zh_CN.po: $stats"
	fi
else
	bad "msgfmt --check po/zh_CN.po: $stats"
fi
(cd "$SOURCE_ROOT" && xgettext --keyword=_ --keyword=N_ --keyword=NG_:1,2 --from-code=UTF-8 \
	-o "$tmp/tools.pot" "${tools_sources[@]}")
if msgcmp "$po" tools.pot >msgcmp.out 2>&1; then
	ok "po/zh_CN.po has every message of the tools' sources"
else
	bad "po/zh_CN.po misses messages of the sources: $(head -c 600 msgcmp.out)"
fi

if ! locale -a | grep -qixE 'zh_CN\.utf-?8'; then
	bad "the locale zh_CN.UTF-8 is not generated on this machine (scripts/deps; Debian:" \
		"dpkg-reconfigure locales): the programs would speak English"
	finish
fi

# both CMD...: CMD with LANG=zh_CN.UTF-8 (zh.out, zh.err, $zrc) and LANG=C.UTF-8 (en.*, $erc).
both() {
	set +e
	env LANG=zh_CN.UTF-8 "$@" >zh.out 2>zh.err
	zrc=$?
	env LANG=C.UTF-8 "$@" >en.out 2>en.err
	erc=$?
	set -e
}
# says WHAT STREAM ZH_PATTERN EN_PATTERN: after both(), STREAM (out or err) holds ZH_PATTERN
# in Chinese and EN_PATTERN in English (grep -E), and the two exit codes agree.
says() {
	local what=$1 s=$2 zh=$3 en=$4
	if [ "$zrc" != "$erc" ]; then
		bad "$what: exit $zrc in Chinese, $erc in English"
	elif ! grep -qE -e "$zh" "zh.$s"; then
		bad "$what: zh_CN $s wanted /$zh/: $(head -c 400 "zh.$s")"
	elif ! grep -qE -e "$en" "en.$s"; then
		bad "$what: C $s wanted /$en/: $(head -c 400 "en.$s")"
	elif grep -qE -e "$en" "zh.$s"; then
		bad "$what: zh_CN $s still says /$en/: $(head -c 400 "zh.$s")"
	else
		ok "$what: '$(grep -m1 -oE -e "$zh" "zh.$s")' / '$(grep -m1 -oE -e "$en" "en.$s")'"
	fi
}
# same WHAT: after both(), the same bytes on stdout and on stderr, and the same exit code.
same() {
	if [ "$zrc" = "$erc" ] && cmp -s zh.out en.out && cmp -s zh.err en.err; then
		ok "$1: the same bytes in zh_CN and C (exit $zrc, $(wc -c <zh.out) bytes)"
	else
		bad "$1 differs between zh_CN and C (exit $zrc/$erc): $(diff zh.out en.out | head -5)" \
			"$(diff zh.err en.err | head -5)"
	fi
}
# english WHAT PATTERN: after both(), stderr in zh_CN is English, matches PATTERN and is the
# same as in C.
english() {
	if grep -qE -e "$2" zh.err && cmp -s zh.err en.err && ! LC_ALL=C grep -qP '[^\x00-\x7f]' zh.err
	then
		ok "$1 stays English under zh_CN: $(head -c 100 zh.err)"
	else
		bad "$1 under zh_CN: $(head -c 300 zh.err)"
	fi
}

# ---- custody-log and custody-verify -------------------------------------------------------
L() { "$CUSTODY_LOG" --db "$tmp/db" "$@"; }
"$CUSTODY_LOG" keygen test.custody/log --out log.key >log.pub
L init --origin test.custody/log --key log.key >/dev/null
for i in 0 1 2; do printf '{"v":1,"type":"test","i":%d}' $i | L append >/dev/null; done
L checkpoint >cp
L proof 1 >p.tlog-proof
sed 's/^index 1$/index 2/' p.tlog-proof >moved.tlog-proof

both "$CUSTODY_VERIFY" --help
says "custody-verify --help" out '^用法：custody-verify' '^Usage: custody-verify'
both "$CUSTODY_VERIFY" proof p.tlog-proof
says "custody-verify without --key" err '必须提供 --key VKEY' '--key VKEY is required'
both "$CUSTODY_VERIFY" proof p.tlog-proof --key log.pub
says "custody-verify proof" out "^验证通过：条目 1 在日志 'test.custody/log'" \
	"^verified: entry 1 is in the log 'test.custody/log'"
both "$CUSTODY_VERIFY" proof moved.tlog-proof --key log.pub
says "a proof with another index" err '未通过验证（包含证明）：包含证明：.*包含证明有 2 个哈希' \
	'not verified \(inclusion\): inclusion: .*inclusion proof has 2 hashes'
both "$CUSTODY_VERIFY" checkpoint cp --key log.pub
says "custody-verify checkpoint" out '^根哈希 ' '^root '
both "$CUSTODY_VERIFY" checkpoint cp --key log.pub --witness log.pub
says "a log key given as --witness" err '是记录签名密钥' 'is a note signing key'
both "$CUSTODY_VERIFY" --quorum 40 --key log.pub checkpoint cp
says "--quorum 40" err "不是 0 到 32 之间的数字" "is not a number from 0 to 32"

# --json: the object, its message included, and stderr are the same bytes in every locale.
both "$CUSTODY_VERIFY" proof p.tlog-proof --key log.pub --json
same "custody-verify proof --json"
both "$CUSTODY_VERIFY" proof moved.tlog-proof --key log.pub --json
same "custody-verify proof --json, not verified"
grep -q '"failed":"inclusion","message":"inclusion: the entry at index 2' zh.out &&
	ok "the JSON message stays English under zh_CN" || bad "JSON under zh_CN: $(cat zh.out)"
both "$CUSTODY_VERIFY" checkpoint cp --key log.pub --json
same "custody-verify checkpoint --json"
printf 'not a clip\n' >x.mp4
both "$CUSTODY_VERIFY" fingerprint x.mp4 --json
same "custody-verify fingerprint --json of a damaged file"
both "$CUSTODY_VERIFY" fingerprint x.mp4
says "custody-verify fingerprint" out '^大小：11 字节$' '^size: 11 bytes$'

both "$CUSTODY_LOG" frobnicate
says "custody-log with an unknown command" err '未知命令或参数有误' \
	'unknown command or wrong arguments'
both "$CUSTODY_LOG" --db "$tmp/db" show 7
says "custody-log show 7 (verify/tlog.c's message)" err '日志中没有条目 7' \
	'there is no entry 7 in the log'
both "$CUSTODY_LOG" --db "$tmp/db" --json show 7
same "custody-log --json show 7"
both "$CUSTODY_LOG" --db "$tmp/db" --json checkpoint
same "custody-log --json checkpoint"
# Each run makes the log anew, in the same folder.
both sh -c 'rm -rf "$1" && exec "$2" --db "$1" init --origin test.custody/log --key log.key' \
	sh "$tmp/new" "$CUSTODY_LOG"
says "custody-log init" out "^已在 '$tmp/new' 中初始化日志 'test.custody/log'" \
	"^initialised the log 'test.custody/log' in '$tmp/new'"
chmod 644 log.key
both "$CUSTODY_LOG" --db "$tmp/other" init --origin test.custody/log --key log.key
says "a key file of mode 0644" err "的权限为 0644；必须为 0600" "has mode 0644; it must be 0600"
chmod 600 log.key

# ---- custodyd: --help and --check-config translated, the daemon's own lines English -------
# daemon_conf's [log] uses $tmp/log.key and log.pub, made above for test.custody/log.
zone="[store]
path = $tmp/store

[zone dock]
path = $tmp/dock"
daemon_conf <<<"$zone"
both "$CUSTODYD" --help
says "custodyd --help" out '^用法：custodyd' '^Usage: custodyd'
both "$CUSTODYD" --frob
says "custodyd --frob" err '未知选项或缺少值' 'unknown option or missing value'
both "$CUSTODYD" --config "$conf" --check-config
says "custodyd --check-config, valid" out "有效：1 个投放区" "is valid: 1 zone$"
both "$CUSTODYD" --config "$tmp/none.conf" --check-config
says "custodyd --check-config, no file" err '无法打开配置文件：没有那个文件或目录' \
	'cannot open the configuration: No such file or directory'
printf '%s\n[rules]\nsplit_tolerance = 20m\n' "$zone" | daemon_conf
both "$CUSTODYD" --config "$conf" --check-config
says "custodyd --check-config, out of range" err \
	'\[rules\] split_tolerance = 20m 超出范围：应在 0 至 10m 之间' \
	'\[rules\] split_tolerance = 20m is out of range: 0 to 10m'
printf '%s\n[rules]\ncolour = blue\n' "$zone" | daemon_conf
both "$CUSTODYD" --config "$conf" --check-config
says "custodyd --check-config, unknown key" err "\[rules\] 中的未知配置项 'colour'" \
	"unknown key 'colour' in \[rules\]"
# Without --check-config the same error goes to the journal: English, whatever LANG says.
both "$CUSTODYD" --config "$conf"
english "custodyd's journal line" "unknown key 'colour' in \[rules\]"

# ---- custody-witness: --help, keygen and --check-config translated; serving English --------
both "$CUSTODY_WITNESS" --help
says "custody-witness --help" out '^用法：custody-witness' '^Usage: custody-witness'
both "$CUSTODY_WITNESS" keygen w.test/witness
says "custody-witness keygen without --out" err 'keygen 需要 --out KEYFILE' \
	'keygen needs --out KEYFILE'
"$CUSTODY_WITNESS" keygen w.test/witness --out w.key >w.pub
mkdir -p wstate
cat >w.conf <<EOF
[witness]
listen = 127.0.0.1:1
key = $tmp/w.key
state = $tmp/wstate

[log test]
origin = test.custody/log
key = $(cat log.pub)
EOF
both "$CUSTODY_WITNESS" --config w.conf --check-config
says "custody-witness --check-config, valid" out '^配置有效：1 个日志' '^configuration valid: 1 log,'
printf 'colour = blue\n' >>w.conf
both "$CUSTODY_WITNESS" --config w.conf --check-config
says "custody-witness --check-config, unknown key" err "\[log test\] 中的未知配置项 'colour'" \
	"unknown key 'colour' in \[log test\]"
both "$CUSTODY_WITNESS" --config w.conf
english "custody-witness serving, its startup error" "unknown key 'colour' in \[log test\]"

finish
