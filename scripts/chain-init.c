// SPDX-License-Identifier: GPL-2.0
/*
 * Init of the kexec-metadata chain test (scripts/chain.sh).
 *
 * Runs as PID 1 in every kernel of a chain of KHO kexecs.  The command line
 * says where in the chain it is:
 *
 *   kmd.hop=I           this boot's index, 0 for the cold boot
 *   kmd.plan=A,B,...    the kernel of each hop: kmd, stock or xabi, with
 *                       ":off" for a hop booted with kho=off, ":taint" for
 *                       a hop that taints itself (TAINT_USER) before it
 *                       kexecs, ":run" or ":runext" for a hop that
 *                       overwrites a byte of its outgoing kexec-metadata or
 *                       kexec-metadata-ext record through /dev/mem (the
 *                       writer logs the overwrite at kexec, writes the
 *                       records again, and taints nothing)
 *   kmd.count=0,1,...   the kexec count each hop must report
 *   kmd.zero=1          ours must print the exec-from line at 0.000000
 *   kmd.prev=RELEASE    uname -r of the kernel that kexec'ed this one
 *   kmd.boot=UUID       that kernel's /proc/sys/kernel/random/boot_id
 *
 * The expected values come from the test script and the previous hop, not
 * from the kernel.  Each hop checks what the kernel reports against them
 * (log lines, /sys/kernel/kexec/previous/, the records it hands on in
 * debugfs, the incoming records' pages given back), prints one
 * "kmd-result I ok|fail MESSAGE" line, then builds the next hop's
 * initramfs (itself plus all kernel images, a flat newc archive in a
 * memfd, so the chain length is not limited by its size) and kexecs into
 * the next kernel.
 *
 * Damage in transit (after the writer sealed its records at kexec, before
 * the next kernel reads them) has no end-to-end path without a hook in the
 * kernel: KUnit covers the reader's checksum check on that side.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <asm/ioctls.h>
#include <linux/kexec.h>

#define CMDLINE_MAX	2048
#define LOG_MAX		(1024 * 1024)
#define FIELD_MAX	512
#define PAGE		4096
#define LINE_TAG	"KHO: exec from: "
/*
 * A line that start_kernel() prints from vfs_caches_init(), after
 * kho_memory_init_early(), which reads the previous kernel's records, and
 * before the first initcall.  Ours must print its exec-from line first.
 */
#define EARLY_MARKER	"Mount-cache hash table entries"
#define MD_NODE		"kexec-metadata"
#define EXT_NODE	"kexec-metadata-ext"
#define OUT_FDT		"/debugfs/kho/out/fdt"
#define OUT_BLOB	"/debugfs/kho/out/sub_fdts/" MD_NODE
#define OUT_EXT_BLOB	"/debugfs/kho/out/sub_fdts/" EXT_NODE
#define IN_FDT		"/debugfs/kho/in/fdt"
#define IN_BLOB		"/debugfs/kho/in/sub_fdts/" MD_NODE
#define IN_EXT_BLOB	"/debugfs/kho/in/sub_fdts/" EXT_NODE
#define KPF_RESERVED	32	/* Documentation/admin-guide/mm/pagemap.rst */
#define KPF_BUDDY	10
#define SYSFS_DIR	"/sys/kernel/kexec/previous"
#define BOOT_ID		"/proc/sys/kernel/random/boot_id"
#define TAINTED		"/proc/sys/kernel/tainted"
/* TAINT_USER, as /proc/sys/kernel/tainted and the sysfs taint file show it. */
#define TAINT_USER	"64"
#define TAINT_USER_LINE	"KHO: previous kernel was tainted: U (0x40)"
/* Its level, as syslog(2) prefixes it: information (not a fault taint). */
#define TAINT_USER_LEVEL	"<6>"
#define TAINT_LINE	"KHO: previous kernel was tainted: "
#define BUILD_ID_LINE	"KHO: previous kernel: build ID "
#define BOOT_ID_LINE	"KHO: previous kernel: boot ID "
#define V1_SIZE		73	/* u32 version, char release[65], u32 count */
#define V1_RELEASE	4
/* Version 4: u32 version; u32 pad; u64 taint; u8 build_id[20]; u32 crc32; u8 boot_id[16] */
#define EXT_SIZE	56
#define EXT_VERSION	4
#define EXT_CRC		52
#define EXT_BUILD_ID	16
#define BUILD_ID_SIZE	20
#define NO_BUILD_ID	"0000000000000000000000000000000000000000"

static const char *const kernels[] = { "kmd", "stock", "xabi", NULL };

/* Log lines that no hop of any mode may have. */
static const char *const bad_lines[] = {
	"WARNING:", "BUG:", "kexec-metadata rejected", "kexec-metadata-ext ignored",
	"not passed on to the next kernel", NULL
};

static char cmdline[CMDLINE_MAX];
static char boot[64], my_boot[64], build_id[2 * BUILD_ID_SIZE + 1];
static char klog[LOG_MAX];
static struct utsname uts;
static int hop, failed;

static void fail(const char *fmt, const char *a, const char *b)
{
	printf("kmd-check %d FAIL: ", hop);
	printf(fmt, a, b);
	printf("\n");
	failed = 1;
}

static void pass(const char *what, const char *detail)
{
	printf("kmd-check %d ok: %s %s\n", hop, what, detail);
}

/*
 * The console sends what we print after write() has returned, and neither
 * reboot() nor kexec waits for it: on a busy host the last lines went
 * missing from the serial log.  Wait until it is sent, as tcdrain() does.
 */
static void drain_console(void)
{
	ioctl(STDOUT_FILENO, TCSBRK, 1);
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = '\0';
	return len;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ok;

	ok = fd >= 0 && write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Copy the value of "key=" from the command line into @val. */
static int param(const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && p[n] != '\n' && n < size - 1)
				n++;
			memcpy(val, p, n);
			val[n] = '\0';
			return 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

/* The @idx-th element of a comma separated list, or NULL. */
static const char *nth(const char *list, int idx, char *out, size_t size)
{
	const char *end;
	size_t n;

	while (idx-- > 0) {
		list = strchr(list, ',');
		if (!list)
			return NULL;
		list++;
	}
	end = strchr(list, ',');
	n = end ? (size_t)(end - list) : strlen(list);
	if (!n || n >= size)
		return NULL;
	memcpy(out, list, n);
	out[n] = '\0';
	return out;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Find the log line that contains @needle; return a copy of it in @out. */
static int log_line(const char *needle, char *out, size_t size)
{
	const char *p = strstr(klog, needle);
	const char *start, *end;
	size_t n;

	if (!p)
		return -1;
	start = p;
	while (start > klog && start[-1] != '\n')
		start--;
	end = strchr(p, '\n');
	n = end ? (size_t)(end - start) : strlen(start);
	if (n >= size)
		n = size - 1;
	memcpy(out, start, n);
	out[n] = '\0';
	return 0;
}

/* A log line with @needle must be there (with @want in it), or must not. */
static void expect_line(const char *needle, int there, const char *want)
{
	char line[FIELD_MAX];

	if (log_line(needle, line, sizeof(line))) {
		if (there)
			fail("no '%s' line%s", needle, "");
		else
			pass("no line", needle);
	} else if (!there) {
		fail("unexpected line: %s%s", line, "");
	} else if (want && !strstr(line, want)) {
		fail("line is '%s', expected '%s'", line, want);
	} else {
		pass("line", line);
	}
}

static unsigned int le32(const unsigned char *p)
{
	unsigned int v;

	memcpy(&v, p, sizeof(v));	/* native, as the kernel writes it */
	return v;
}

static void hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * This kernel's GNU build ID, from the ELF notes in /sys/kernel/notes, as
 * 40 hex digits (zero-padded, as the kernel shows it), or "" if not found.
 */
static void own_build_id(void)
{
	static unsigned char notes[8192];
	ssize_t len = read_file("/sys/kernel/notes", (char *)notes, sizeof(notes));
	unsigned char id[BUILD_ID_SIZE] = { 0 };
	size_t off = 0, name, desc;
	unsigned int namesz, descsz;

	build_id[0] = '\0';
	while (len > 0 && off + 12 <= (size_t)len) {
		namesz = le32(notes + off);
		descsz = le32(notes + off + 4);
		name = off + 12;
		desc = name + ((namesz + 3) & ~3u);
		if (desc + descsz > (size_t)len)
			break;
		/* NT_GNU_BUILD_ID */
		if (le32(notes + off + 8) == 3 && namesz == 4 && !memcmp(notes + name, "GNU", 4) &&
		    descsz <= BUILD_ID_SIZE) {
			memcpy(id, notes + desc, descsz);
			hex(build_id, id, BUILD_ID_SIZE);
			return;
		}
		off = desc + ((descsz + 3) & ~3u);
	}
}

static int read_sysfs(const char *name, char *got, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), SYSFS_DIR "/%s", name);
	if (read_file(path, got, size) < 0) {
		fail("cannot read %s%s", path, "");
		return -1;
	}
	trim(got);
	return 0;
}

static void check_file(const char *name, const char *want)
{
	char got[FIELD_MAX];

	if (read_sysfs(name, got, sizeof(got)))
		return;
	if (strcmp(got, want))
		fail("%s is '%s'", name, got);
	else
		pass(name, got);
}

static int absent(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), SYSFS_DIR "/%s", name);
	if (!access(path, F_OK)) {
		fail("%s exists%s", path, "");
		return 0;
	}
	return 1;
}

static unsigned int be32(const unsigned char *p)
{
	return (unsigned int)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * The physical address of record @node: the "preserved-data" of that node
 * of the KHO FDT at @path (kho/in/fdt: the one the previous kernel passed
 * on; kho/out/fdt: this kernel's), or 0.
 */
static unsigned long long record_phys(const char *path, const char *node)
{
	static unsigned char fdt[65536];
	ssize_t len = read_file(path, (char *)fdt, sizeof(fdt));
	unsigned int off, strings, depth = 0, in_node = 0, tag, plen, name;
	unsigned long long phys = 0;

	if (len < 40 || be32(fdt) != 0xd00dfeed)
		return 0;
	off = be32(fdt + 8);
	strings = be32(fdt + 12);
	while (off + 8 <= (unsigned int)len) {
		tag = be32(fdt + off);
		off += 4;
		if (tag == 1) {		/* FDT_BEGIN_NODE */
			in_node = ++depth == 2 && !strcmp((char *)fdt + off, node);
			off += (strlen((char *)fdt + off) + 4) & ~3u;
		} else if (tag == 2) {	/* FDT_END_NODE */
			depth--;
			in_node = 0;
		} else if (tag == 3) {	/* FDT_PROP */
			plen = be32(fdt + off);
			/* KHO writes the address in native byte order. */
			name = strings + be32(fdt + off + 4);
			if (in_node && plen == 8 && name < (unsigned int)len &&
			    !strcmp((char *)fdt + name, "preserved-data"))
				memcpy(&phys, fdt + off + 8, 8);
			off += 8 + ((plen + 3) & ~3u);
		} else if (tag != 4) {	/* not FDT_NOP: FDT_END or garbage */
			break;
		}
	}
	return phys;
}

static int page_flags(unsigned long long phys, unsigned long long *flags)
{
	int fd = open("/proc/kpageflags", O_RDONLY), ok;

	ok = fd >= 0 && phys &&
	     lseek(fd, phys / getpagesize() * sizeof(*flags), SEEK_SET) >= 0 &&
	     read(fd, flags, sizeof(*flags)) == sizeof(*flags);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Start of the first /proc/iomem range named @name, or 0. */
static unsigned long long iomem_start(const char *name)
{
	static char iomem[16384];
	char *p;

	if (read_file("/proc/iomem", iomem, sizeof(iomem)) <= 0)
		return 0;
	p = strstr(iomem, name);
	while (p && p > iomem && p[-1] != '\n' && p[-1] != ' ')
		p--;
	return p ? strtoull(p, NULL, 16) : 0;
}

/*
 * The accepted record's page went back to the page allocator: /proc/kpageflags
 * no longer shows it reserved, as KHO memory that nobody restored stays.  The
 * kernel's own code, which is reserved, shows that the flag can be seen.
 */
static void check_page_freed(const char *node)
{
	unsigned long long phys = record_phys(IN_FDT, node), text, flags, tflags;
	char detail[160];

	/* Without KHO, this kernel has no kho/in/fdt to find the address in. */
	if (strstr(cmdline, "kho=off")) {
		pass("incoming record page not looked up:", "no kho/in/fdt under kho=off");
		return;
	}
	text = iomem_start(" : Kernel code");
	if (page_flags(phys, &flags) || page_flags(text, &tflags) ||
	    !(tflags >> KPF_RESERVED & 1)) {
		snprintf(detail, sizeof(detail), "(%s 0x%llx, kernel code 0x%llx)",
			 node, phys, text);
		fail("cannot tell reserved pages from /proc/kpageflags %s%s", detail, "");
		return;
	}
	snprintf(detail, sizeof(detail),
		 "%s (phys 0x%llx, kpageflags 0x%llx%s; kernel code's 0x%llx)", node, phys, flags,
		 flags >> KPF_BUDDY & 1 ? ", buddy" : "", tflags);
	if (flags >> KPF_RESERVED & 1)
		fail("incoming record page is still reserved: %s%s", detail, "");
	else
		pass("incoming record page back in the page allocator:", detail);
}

/* build_id in sysfs: 40 hex digits, not zero, this kernel's own if known. */
static void check_build_id(void)
{
	char got[FIELD_MAX];
	size_t i;

	if (read_sysfs("build_id", got, sizeof(got)))
		return;
	for (i = 0; got[i] && strchr("0123456789abcdef", got[i]); i++)
		;
	if (i != 40 || got[i] || !strcmp(got, NO_BUILD_ID))
		fail("build_id is '%s'%s", got, "");
	else if (build_id[0] && strcmp(got, build_id))
		fail("build_id is '%s', not this same image's '%s'", got, build_id);
	else
		pass("build_id", build_id[0] ? got : "(own build ID unknown: not compared)");
}

/*
 * The userspace view: /sys/kernel/kexec/previous/.  @ext: the previous
 * kernel was ours, so it also wrote its kexec-metadata-ext record.
 */
static void check_sysfs(const char *prev_kernel, unsigned long count, const char *prev, int ext)
{
	char want[32];

	snprintf(want, sizeof(want), "%lu", count);
	check_file("count", want);
	check_file("reason", count ? "valid" : "none");
	if (!count) {
		if (absent("release") && absent("taint") && absent("build_id") && absent("boot_id"))
			pass("no files about a previous kernel", "");
		return;
	}
	check_file("release", prev);
	/*
	 * The accepted records' pages went back, and KHO removed their debugfs
	 * files (series patch 8).
	 */
	if (!access(IN_BLOB, F_OK))
		fail("%s still exists%s", IN_BLOB, "");
	else if (!access(IN_EXT_BLOB, F_OK))
		fail("%s still exists%s", IN_EXT_BLOB, "");
	else
		pass("incoming records given back", "(no kho/in files)");
	check_page_freed(MD_NODE);
	if (!ext) {
		if (absent("taint") && absent("build_id") && absent("boot_id"))
			pass("no kexec-metadata-ext files after a stock kernel", "");
		return;
	}
	check_page_freed(EXT_NODE);
	check_file("taint", strstr(prev_kernel, ":taint") ? TAINT_USER : "0");
	check_build_id();
	check_file("boot_id", boot);
}

/* zlib's crc32(): @crc of the bytes before @p (0 for none), then @len more */
static unsigned long crc32_zlib(unsigned long crc, const unsigned char *p, size_t len)
{
	int k;

	crc = ~crc & 0xffffffffUL;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320UL : crc >> 1;
	}
	return ~crc & 0xffffffffUL;
}

/*
 * The CRC-32 that the ext record at @ext must carry: over the version 1
 * record @v1 and the ext record, its crc32 field counted as zero.
 */
static unsigned long ext_crc(const unsigned char *v1, const unsigned char *ext)
{
	static const unsigned char zero[4];
	unsigned long crc;

	crc = crc32_zlib(0, v1, V1_SIZE);
	crc = crc32_zlib(crc, ext, EXT_CRC);
	crc = crc32_zlib(crc, zero, sizeof(zero));
	return crc32_zlib(crc, ext + EXT_CRC + 4, EXT_SIZE - EXT_CRC - 4);
}

/* The records this kernel leaves for the next one, as debugfs shows them. */
static void check_outgoing(unsigned long next_count, int ours)
{
	unsigned char blob[PAGE], v1[V1_SIZE];
	unsigned long version, count;
	char want[32], got[2 * BUILD_ID_SIZE + 1];
	ssize_t len;

	len = read_file(OUT_BLOB, (char *)blob, sizeof(blob));
	if (len < 0) {
		fail("no outgoing blob at %s%s", OUT_BLOB, "");
		return;
	}
	if (len != V1_SIZE) {
		fail("outgoing blob is not %s bytes%s", "73", "");
		return;
	}
	version = le32(blob);
	count = le32(blob + V1_SIZE - 4);
	snprintf(want, sizeof(want), "%lu", next_count);
	if (version != 1)
		fail("outgoing blob has version %s%s", "!= 1", "");
	else if (strncmp((char *)blob + V1_RELEASE, uts.release, 65))
		fail("outgoing blob names '%s', not '%s'", (char *)blob + V1_RELEASE, uts.release);
	else if (count != next_count)
		fail("outgoing blob carries another count than %s%s", want, "");
	else
		pass("outgoing v1 record for count", want);
	memcpy(v1, blob, V1_SIZE);

	len = read_file(OUT_EXT_BLOB, (char *)blob, sizeof(blob));
	if (!ours) {
		if (len >= 0)
			fail("a stock kernel hands on %s%s", OUT_EXT_BLOB, "");
		return;
	}
	if (len != EXT_SIZE) {
		fail("outgoing %s is missing or not %s bytes", OUT_EXT_BLOB, "56");
		return;
	}
	hex(got, blob + EXT_BUILD_ID, BUILD_ID_SIZE);
	if (le32(blob) != EXT_VERSION)
		fail("outgoing ext record has version %s%s", "!= 4", "");
	/* Sealed when registered, and sealed again at kexec */
	else if (le32(blob + EXT_CRC) != ext_crc(v1, blob))
		fail("outgoing ext record is not sealed as registered%s%s", "", "");
	else if (!strcmp(got, NO_BUILD_ID) || (build_id[0] && strcmp(got, build_id)))
		fail("outgoing ext record has build ID %s, not %s", got, build_id);
	else
		pass("outgoing ext record, version 4, sealed, build ID", got);
}

static void check_hop(const char *me, const char *prev_kernel, unsigned long count,
		      const char *prev)
{
	char line[FIELD_MAX], want[FIELD_MAX];
	const char *const *bad, *p, *m;
	int ours = !strncmp(me, "kmd", 3);
	int kho_on = !strstr(me, ":off");
	/* The previous kernel was ours and its records were read. */
	int ext = ours && count && prev_kernel && !strncmp(prev_kernel, "kmd", 3);

	if (syscall(__NR_syslog, 3, klog, LOG_MAX - 1) < 0) {
		fail("cannot read the kernel log%s%s", "", "");
		return;
	}

	for (bad = bad_lines; *bad; bad++) {
		if (!log_line(*bad, line, sizeof(line)))
			fail("kernel log has: %s%s", line, "");
	}

	if (!count) {
		if (!log_line(LINE_TAG, line, sizeof(line)))
			fail("unexpected line: %s%s", line, "");
		else
			pass("no exec-from line", "(count 0)");
	} else if (log_line(LINE_TAG, line, sizeof(line))) {
		fail("no '%s' line%s", LINE_TAG, "");
	} else {
		snprintf(want, sizeof(want), LINE_TAG "%s (count %lu)", prev, count);
		p = strstr(klog, LINE_TAG);
		m = strstr(klog, EARLY_MARKER);
		if (!strstr(line, want))
			fail("line is '%s', expected '%s'", line, want);
		else if (ours && (!m || m < p))
			fail("line is not before the '" EARLY_MARKER "' line: %s%s", line, "");
		else if (ours && strstr(cmdline, "kmd.zero=1") && !strstr(line, "[    0.000000] "))
			fail("line is not at 0.000000: %s%s", line, "");
		else
			pass("line", line);
	}

	if (ours) {
		expect_line(BUILD_ID_LINE, ext, build_id[0] ? build_id : NULL);
		expect_line(BOOT_ID_LINE, ext, boot);
		if (ext && strstr(prev_kernel, ":taint"))
			expect_line(TAINT_USER_LINE, 1, TAINT_USER_LEVEL);
		else
			expect_line(TAINT_LINE, 0, NULL);
		check_sysfs(prev_kernel ? prev_kernel : "", count, prev, ext);
	}

	if (kho_on)
		check_outgoing(count == 0xffffffffUL ? count : count + 1, ours);
}

/*
 * Overwriting the outgoing records while the kernel runs, through /dev/mem
 * (CONFIG_DEVMEM, without CONFIG_STRICT_DEVMEM): what a stray write does.
 * debugfs shows a record's contents where it lies, so a write that changes
 * them hit it.
 */
static int mem_rw(int fd, unsigned long long phys, void *buf, size_t n, int wr)
{
	if (lseek(fd, phys, SEEK_SET) < 0)
		return -1;
	return (wr ? write(fd, buf, n) : read(fd, buf, n)) == (ssize_t)n ? 0 : -1;
}

/*
 * Flip a bit of byte @off at @phys if it holds the record of @blob (@len
 * bytes, as debugfs showed them); keep it flipped only if debugfs then
 * shows the change.
 */
static int try_damage(int fd, unsigned long long phys, const char *blob, size_t off,
		      const unsigned char *orig, size_t len)
{
	/* Buffers that never hold a record at a page-aligned address. */
	static unsigned char now[2 * PAGE] __attribute__((aligned(PAGE)));
	unsigned char b;

	if (mem_rw(fd, phys + off, &b, 1, 0) || b != orig[off])
		return -1;
	b ^= 1;
	if (mem_rw(fd, phys + off, &b, 1, 1))
		return -1;
	if (read_file(blob, (char *)now + 32, PAGE) == (ssize_t)len && now[32 + off] == b)
		return 0;
	b ^= 1;
	mem_rw(fd, phys + off, &b, 1, 1);
	return -1;
}

/* The System RAM ranges of /proc/iomem, and the span of the kernel image. */
static int ram_ranges(unsigned long long (*ram)[2], int max, unsigned long long *kernel)
{
	static char iomem[16384];
	const char *p, *q, *s;
	char l[128];
	size_t n;
	int nr = 0;

	kernel[0] = ~0ULL;
	kernel[1] = 0;
	if (read_file("/proc/iomem", iomem, sizeof(iomem)) <= 0)
		return 0;
	for (p = iomem; *p; p = q) {
		q = strchr(p, '\n');
		n = q ? (size_t)(q - p) : strlen(p);
		q = q ? q + 1 : p + n;
		if (n >= sizeof(l) || !strchr(p, '-'))
			continue;
		memcpy(l, p, n);
		l[n] = '\0';
		for (s = l; *s == ' '; s++)
			;
		if (strstr(l, " : Kernel ")) {
			if (strtoull(s, NULL, 16) < kernel[0])
				kernel[0] = strtoull(s, NULL, 16);
			if (strtoull(strchr(s, '-') + 1, NULL, 16) > kernel[1])
				kernel[1] = strtoull(strchr(s, '-') + 1, NULL, 16);
		} else if (l[0] != ' ' && strstr(l, " : System RAM") && nr < max) {
			/*
			 * Whole pages only: /dev/mem maps a page that is
			 * partly something else with memremap(), which warns.
			 */
			ram[nr][0] = (strtoull(l, NULL, 16) + PAGE - 1) & ~(PAGE - 1ULL);
			ram[nr][1] = (strtoull(strchr(l, '-') + 1, NULL, 16) + 1) & ~(PAGE - 1ULL);
			nr += ram[nr][0] < ram[nr][1];
		}
	}
	return nr;
}

/*
 * Damage byte @off of this kernel's outgoing record @node.  Its address is
 * in kho/out/fdt, if that shows the node: KHO exposes the root FDT there
 * only on a cold boot, and with the size it had before any subtree was
 * added.  Otherwise the record is found by its contents, at the start of a
 * page (KHO gives every record pages of its own) of System RAM outside the
 * kernel image.
 */
static int damage(const char *node, const char *blob, size_t off)
{
	static unsigned char orig[2 * PAGE] __attribute__((aligned(PAGE)));
	static unsigned char buf[(1 << 20) + PAGE] __attribute__((aligned(PAGE)));
	/* Never a copy of a record at a page-aligned address. */
	unsigned char *rec = orig + 32, *chunk = buf + 64;
	unsigned long long ram[32][2], kernel[2], phys, pos;
	const char *how = "from kho/out/fdt";
	char detail[160];
	int fd, found = -1, nr, r;
	ssize_t len;
	size_t n, i;

	len = read_file(blob, (char *)rec, PAGE);
	fd = open("/dev/mem", O_RDWR);
	if (len <= (ssize_t)off || fd < 0) {
		fail("cannot read %s or open /dev/mem (CONFIG_DEVMEM?)%s", blob, "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	phys = record_phys(OUT_FDT, node);
	if (phys)
		found = try_damage(fd, phys, blob, off, rec, len);
	if (found)
		how = "found in System RAM";
	nr = ram_ranges(ram, 32, kernel);
	for (r = 0; found && r < nr; r++) {
		for (pos = ram[r][0]; found && pos < ram[r][1]; pos += n) {
			n = ram[r][1] - pos < (1 << 20) ? ram[r][1] - pos : (1 << 20);
			/* A chunk with a page /dev/mem cannot read: page by page. */
			if (mem_rw(fd, pos, chunk, n, 0)) {
				n = PAGE;
				if (mem_rw(fd, pos, chunk, n, 0))
					continue;
			}
			for (i = 0; found && i + len <= n; i += PAGE) {
				phys = pos + i;
				if (phys >= kernel[0] && phys <= kernel[1])
					continue;
				if (memcmp(chunk + i, rec, len))
					continue;
				found = try_damage(fd, phys, blob, off, rec, len);
			}
		}
	}
	close(fd);
	if (found) {
		fail("cannot find this kernel's outgoing %s record through /dev/mem%s", node, "");
		return -1;
	}
	snprintf(detail, sizeof(detail), "%s byte %u at 0x%llx (%s)", node, (unsigned int)off,
		 phys + off, how);
	pass("overwrote outgoing", detail);
	return 0;
}

/*
 * Append one newc member: a file with the contents of @path, or, when @path
 * is NULL, a directory, a device node (@rdev: major << 8 | minor) or the
 * trailer.
 */
static int cpio_add(int out, const char *name, const char *path, unsigned int mode,
		    unsigned int rdev)
{
	static unsigned int ino = 1;
	static const char zeros[4];
	char hdr[111], buf[65536];
	size_t nlen = strlen(name) + 1;
	struct stat st = { 0 };
	ssize_t n;
	int fd = -1;

	if (path) {
		fd = open(path, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) < 0)
			return -1;
	}
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino++, mode, 0, 0, 1, 0, (unsigned int)st.st_size,
		 0, 0, rdev >> 8, rdev & 0xff, (unsigned int)nlen, 0);
	if (write(out, hdr, 110) != 110 || write(out, name, nlen) != (ssize_t)nlen)
		goto err;
	if (write(out, zeros, (4 - (110 + nlen) % 4) % 4) < 0)
		goto err;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto err;
	if (write(out, zeros, (4 - st.st_size % 4) % 4) < 0)
		goto err;
	if (fd >= 0)
		close(fd);
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int build_initramfs(void)
{
	const char *const *k;
	char name[32];
	int fd;

	fd = memfd_create("initramfs", 0);
	if (fd < 0)
		fd = open("/next.cpio", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (cpio_add(fd, "dev", NULL, 040755, 0) ||
	    cpio_add(fd, "dev/console", NULL, 020600, 5 << 8 | 1) ||
	    cpio_add(fd, "dev/mem", NULL, 020600, 1 << 8 | 1) ||
	    cpio_add(fd, "proc", NULL, 040755, 0) || cpio_add(fd, "sys", NULL, 040755, 0) ||
	    cpio_add(fd, "debugfs", NULL, 040755, 0) ||
	    cpio_add(fd, "init", "/init", 0100755, 0))
		return -1;
	for (k = kernels; *k; k++) {
		snprintf(name, sizeof(name), "/kernel-%s", *k);
		if (access(name, F_OK))
			continue;
		if (cpio_add(fd, name + 1, name, 0100644, 0))
			return -1;
	}
	if (cpio_add(fd, "TRAILER!!!", NULL, 0, 0))
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Command line for the next hop: ours minus the per-hop parameters. */
static void next_cmdline(char *out, size_t size, int next, const char *next_kernel)
{
	const char *p = cmdline;
	size_t len = 0;

	while (*p) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n && strncmp(p, "kmd.hop=", 8) && strncmp(p, "kmd.prev=", 9) &&
		    strncmp(p, "kho=", 4) && strncmp(p, "kmd.boot=", 9) &&
		    len + n + 1 < size) {
			memcpy(out + len, p, n);
			len += n;
			out[len++] = ' ';
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	snprintf(out + len, size - len, "kmd.hop=%d kmd.prev=%s kmd.boot=%s kho=%s", next,
		 uts.release, my_boot, strstr(next_kernel, ":off") ? "off" : "on");
}

/* What a hop does to itself before it kexecs: taint, overwrite a record. */
static int before_kexec(const char *me)
{
	char got[32];

	if (strstr(me, ":taint")) {
		if (write_file(TAINTED, TAINT_USER) || read_file(TAINTED, got, sizeof(got)) < 0) {
			fail("cannot write %s to %s", TAINT_USER, TAINTED);
			return -1;
		}
		trim(got);
		pass("tainted before kexec:", got);
	}
	if (strstr(me, ":runext"))
		return damage(EXT_NODE, OUT_EXT_BLOB, EXT_BUILD_ID);
	if (strstr(me, ":run"))
		return damage(MD_NODE, OUT_BLOB, V1_RELEASE);
	return 0;
}

static int kexec_next(const char *me, const char *next_kernel)
{
	char path[64], kname[16], next[CMDLINE_MAX];
	unsigned long len;
	int kfd, ifd;

	snprintf(kname, sizeof(kname), "%s", next_kernel);
	if (strchr(kname, ':'))
		*strchr(kname, ':') = '\0';
	snprintf(path, sizeof(path), "/kernel-%s", kname);
	next_cmdline(next, sizeof(next), hop + 1, next_kernel);

	kfd = open(path, O_RDONLY);
	ifd = build_initramfs();
	if (kfd < 0 || ifd < 0) {
		printf("kmd-result %d fail cannot open %s or build the initramfs\n",
		       hop, path);
		return -1;
	}
	/* no function calls in syscall() arguments: they clobber registers */
	len = strlen(next) + 1;
	if (syscall(__NR_kexec_file_load, kfd, ifd, len, next, 0)) {
		printf("kmd-result %d fail kexec_file_load(%s): errno %d\n",
		       hop, path, errno);
		return -1;
	}
	/* Last, so that nothing else writes to memory after the damage. */
	if (before_kexec(me)) {
		printf("kmd-result %d fail cannot prepare the kexec as planned (%s)\n", hop, me);
		return -1;
	}
	printf("kmd-kexec %d -> %s: %s\n", hop, next_kernel, next);
	drain_console();
	reboot(RB_KEXEC);
	printf("kmd-result %d fail reboot(RB_KEXEC): errno %d\n", hop, errno);
	return -1;
}

int main(void)
{
	char val[FIELD_MAX], plan[FIELD_MAX], counts[FIELD_MAX], prev[FIELD_MAX];
	char me[32], prev_kernel[32], next_kernel[32], cnt[16];
	int has_prev;

	mkdir("/proc", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/debugfs", "debugfs", 0, NULL);
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) < 0 || uname(&uts) < 0)
		goto out;
	trim(cmdline);
	/*
	 * Read the boot ID as journald does on every systemd machine: the
	 * kernel hands it on only if something read it.
	 */
	if (read_file(BOOT_ID, my_boot, sizeof(my_boot)) < 0) {
		printf("kmd-result -1 fail cannot read %s\n", BOOT_ID);
		goto out;
	}
	trim(my_boot);

	if (param("kmd.hop", val, sizeof(val)) || param("kmd.plan", plan, sizeof(plan)) ||
	    param("kmd.count", counts, sizeof(counts))) {
		printf("kmd-result -1 fail kmd.hop, kmd.plan or kmd.count missing\n");
		goto out;
	}
	hop = atoi(val);
	has_prev = !param("kmd.prev", prev, sizeof(prev));
	if (param("kmd.boot", boot, sizeof(boot)))
		boot[0] = '\0';
	if (!nth(plan, hop, me, sizeof(me)) || !nth(counts, hop, cnt, sizeof(cnt))) {
		printf("kmd-result %d fail hop not in plan\n", hop);
		goto out;
	}
	if (hop && (!has_prev || !boot[0])) {
		printf("kmd-result %d fail kmd.prev or kmd.boot missing\n", hop);
		goto out;
	}
	printf("kmd-hop %d kernel %s release %s expect count %s\n", hop, me,
	       uts.release, cnt);
	if (!hop || !nth(plan, hop - 1, prev_kernel, sizeof(prev_kernel)))
		prev_kernel[0] = '\0';
	own_build_id();
	check_hop(me, hop ? prev_kernel : NULL, strtoul(cnt, NULL, 10), has_prev ? prev : "");
	printf("kmd-result %d %s %s\n", hop, failed ? "fail" : "ok", uts.release);

	if (!failed && nth(plan, hop + 1, next_kernel, sizeof(next_kernel)))
		kexec_next(me, next_kernel);
	else if (!failed)
		printf("kmd-chain-done %d\n", hop);
out:
	drain_console();
	reboot(RB_AUTOBOOT);
	return 0;
}
