// How to get the same zoned device elsewhere: the QEMU NVMe ZNS namespace options, the null_blk configfs
// attributes, and the virtio-blk attachment of the qcow2 image itself, each with what does not carry over.
// Pure: `qzs info --emulators` prints it, the wizard's Review step can show it (emulatorGeometryFromCreate
// over the validation it already has). Constraints and their texts, read through the search tool:
//   QEMU hw/nvme/ns.c nvme_ns_zoned_check_calc_geometry(): zone capacity <= zone size, both >= the LBA size,
//     num_zones = nsze / zone_size (whole zones only), at least one zone; nvme_ns_check_constraints():
//     max_open <= max_active; DEFINE_PROP_* names zoned.zone_size, zoned.zone_capacity, zoned.max_open,
//     zoned.max_active; nvme_ns_init_zoned(): no persistence (every zone starts empty).
//   QEMU hw/nvme/ctrl.c nvme_check_params(): "zoned.zasl (Zone Append Size Limit) must be less than or equal
//     to mdts (Maximum Data Transfer Size)", "mdts exceeds IOV_MAX" ((1 << mdts) + 1 > IOV_MAX = 1024);
//     mdts defaults to 7; the append limit is 2^zasl pages of 4 KiB (0: the MDTS), as Linux reads it
//     (drivers/nvme/host/zns.c nvme_set_max_append(): max_zone_append = 1 << (zasl + 3) sectors).
//   QEMU hw/nvme/ctrl.c nvme_zrm_finish(): finish moves the pointer to zslba + zcap.
//   Linux drivers/nvme/host/zns.c nvme_update_zone_info(): "invalid zone size" unless a power of two.
//   Linux drivers/block/null_blk/zoned.c null_init_zoned_dev(): zone_size in MB and a power of two, not
//     larger than the device; zone_capacity in MB, not larger than zone_size; zone_nr_conv < nr_zones (else
//     nr_zones - 1); zone_max_active >= sequential zones disables it; zone_max_open > zone_max_active is cut
//     to it, >= sequential zones disables it; conventional zones have capacity = length; appends up to a
//     zone (blk_queue_max_zone_append_sectors(q, zone_size_sects)).
import { MIB } from '../bytes';
import type { NormalizedCreateOptions } from './create-options';
import { effectiveLimits } from './zoned-info';
import type { ZonedExtension } from './zoned-types';
import type { ZoneGeometry } from './zone-state';

/**
 * The device to reproduce: the zone state machine's geometry (effective limits; 0 = no limit) without its
 * semantics, plus what the emulators' lines need besides.
 */
export interface EmulatorGeometry extends Omit<ZoneGeometry, 'semantics'> {
  /** With appendLimit false there is no append limit at all (the respin); maxAppendBytes is then 0. */
  appendLimit: boolean;
  /** The zoned revision the image is written in (for the virtio-blk attachment). */
  revision: string;
}

export type EmulatorIssueKind =
  /** The emulator refuses the configuration: its own error text. */
  | 'refused'
  /** It accepts, but the device differs from the image's. */
  | 'differs'
  /** It accepts, but a Linux guest refuses or handles the device differently. */
  | 'guest'
  /** It needs software that stock releases lack. */
  | 'requires';

export interface EmulatorIssue {
  kind: EmulatorIssueKind;
  /** The option or attribute concerned. */
  option: string;
  message: string;
}

export interface EmulatorTarget {
  id: 'qemu-nvme-zns' | 'null_blk' | 'virtio-blk';
  title: string;
  /** The command line, or the shell lines, to set it up. */
  lines: string[];
  issues: EmulatorIssue[];
  /** False when the emulator refuses what is printed (an issue of kind 'refused'). */
  accepted: boolean;
}

/** QEMU's NVMe page size (CAP.MPSMIN, 4 KiB): ZASL and MDTS count in these. */
export const NVME_PAGE = 4096;
const NVME_DEFAULT_MDTS = 7;
/** (1 << mdts) + 1 must not exceed IOV_MAX (1024) (hw/nvme/ctrl.c nvme_check_params). */
const NVME_MAX_MDTS = 9;
const LBA = 512;

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;

export function emulatorGeometryFromExtension(z: ZonedExtension, deviceSize: number): EmulatorGeometry {
  const lim = effectiveLimits(z);
  return {
    deviceSize, zoneSize: z.zoneSize, zoneCapacity: z.zoneCapacity, nrZones: z.nrZones, conventionalZones: z.conventionalZones,
    maxOpenZones: lim.maxOpenZones, maxActiveZones: lim.maxActiveZones, maxAppendBytes: lim.maxAppendBytes, appendLimit: z.hasAppendLimit, revision: z.revision,
  };
}

/** The geometry of an image about to be created (null when the options are not zoned). */
export function emulatorGeometryFromCreate(n: NormalizedCreateOptions): EmulatorGeometry | null {
  const z = n.zoned;
  if (!z) return null;
  const seq = Math.max(0, z.nrZones - z.conventionalZones);
  // The v8 clamp order (section 5.1), as effectiveLimits applies it to a decoded extension.
  const active = Math.min(z.maxActiveZones, z.nrZones);
  let open = Math.min(z.maxOpenZones, seq);
  const modern = z.layout === 'v11' || z.layout === 'respin';
  if (open > active && (!modern || active !== 0)) open = active;
  return {
    deviceSize: n.size, zoneSize: z.zoneSize, zoneCapacity: z.zoneCapacity, nrZones: z.nrZones, conventionalZones: z.conventionalZones,
    maxOpenZones: open, maxActiveZones: active, maxAppendBytes: z.maxAppendBytes, appendLimit: z.layout !== 'respin', revision: z.layout,
  };
}

function shortLastZone(g: EmulatorGeometry): number {
  return g.deviceSize - Math.floor(g.deviceSize / g.zoneSize) * g.zoneSize;
}

/** The zoned.zasl giving max_append_bytes, or why none does. */
export function nvmeZasl(g: EmulatorGeometry): { zasl: number; mdts: number; issues: EmulatorIssue[] } {
  const issues: EmulatorIssue[] = [];
  if (!g.appendLimit) {
    issues.push({ kind: 'differs', option: 'zoned.zasl', message: 'the image has no append limit; zoned.zasl=0 limits appends to the MDTS (2^7 pages of 4 KiB = 512 KiB by default)' });
    return { zasl: 0, mdts: NVME_DEFAULT_MDTS, issues };
  }
  // ZASL is 2^zasl pages of 4 KiB for zasl >= 1; 0 means the MDTS. So the smallest limit is 8 KiB.
  let zasl = g.maxAppendBytes >= 2 * NVME_PAGE ? Math.floor(Math.log2(g.maxAppendBytes / NVME_PAGE)) : 0;
  if (zasl === 0) {
    issues.push({ kind: 'differs', option: 'zoned.zasl', message: g.maxAppendBytes === 0
      ? 'max_append_bytes is 0 (every append fails in the seed revision); NVMe cannot forbid appends: zoned.zasl=0 allows them up to the MDTS (512 KiB by default)'
      : `max_append_bytes ${g.maxAppendBytes} is below 8 KiB, the smallest ZASL limit (2^1 pages of 4 KiB; zoned.zasl=0 means the MDTS, 512 KiB by default)` });
    return { zasl: 0, mdts: NVME_DEFAULT_MDTS, issues };
  }
  if (NVME_PAGE * 2 ** zasl !== g.maxAppendBytes) {
    issues.push({ kind: 'differs', option: 'zoned.zasl', message: `max_append_bytes ${g.maxAppendBytes} is not a power-of-two multiple of the 4 KiB page: zoned.zasl=${zasl} allows ${NVME_PAGE * 2 ** zasl} bytes` });
  }
  if (zasl > NVME_DEFAULT_MDTS && zasl <= NVME_MAX_MDTS) {
    issues.push({ kind: 'differs', option: 'mdts', message: `mdts=${zasl} is set on the controller: QEMU refuses zoned.zasl above mdts (default ${NVME_DEFAULT_MDTS}): "zoned.zasl (Zone Append Size Limit) must be less than or equal to mdts (Maximum Data Transfer Size)"; reads and writes may then be as large too` });
  }
  if (zasl > NVME_MAX_MDTS) {
    issues.push({ kind: 'differs', option: 'zoned.zasl', message: `zoned.zasl=${zasl} needs mdts=${zasl}, which QEMU refuses ("mdts exceeds IOV_MAX"): appends are limited to ${NVME_PAGE * 2 ** NVME_MAX_MDTS} bytes (zoned.zasl=${NVME_MAX_MDTS}, mdts=${NVME_MAX_MDTS})` });
    zasl = NVME_MAX_MDTS;
  }
  return { zasl, mdts: Math.max(NVME_DEFAULT_MDTS, zasl), issues };
}

/** The QEMU NVMe ZNS namespace that presents the same zones (data and write pointers do not carry over). */
export function qemuNvmeZns(g: EmulatorGeometry): EmulatorTarget {
  const issues: EmulatorIssue[] = [];
  const refuse = (option: string, message: string) => issues.push({ kind: 'refused', option, message });
  if (g.zoneCapacity > g.zoneSize) refuse('zoned.zone_capacity', `zone capacity ${g.zoneCapacity}B exceeds zone size ${g.zoneSize}B`);
  if (g.zoneSize < LBA) refuse('zoned.zone_size', `zone size ${g.zoneSize}B too small, must be at least ${LBA}B`);
  if (g.zoneCapacity < LBA) refuse('zoned.zone_capacity', `zone capacity ${g.zoneCapacity}B too small, must be at least ${LBA}B`);
  if (g.zoneSize % LBA !== 0 || g.zoneCapacity % LBA !== 0) {
    issues.push({ kind: 'differs', option: 'zoned.zone_size', message: `QEMU divides the zone size and capacity by the ${LBA}-byte block and drops the remainder` });
  }
  const whole = g.zoneSize > 0 ? Math.floor(g.deviceSize / g.zoneSize) : 0;
  if (whole === 0) refuse('zoned.zone_size', `insufficient drive capacity, must be at least the size of one zone (${g.zoneSize}B)`);
  const tail = g.zoneSize > 0 ? shortLastZone(g) : 0;
  if (tail > 0) {
    issues.push({ kind: 'differs', option: 'size', message: `the short last zone (${tail} bytes) is dropped: QEMU's nvme-ns has whole zones only (num_zones = nsze / zone_size), ${whole} zones of ${g.zoneSize} bytes` });
  }
  if (g.conventionalZones > 0) {
    issues.push({ kind: 'differs', option: 'zoned', message: `${g.conventionalZones} conventional zone(s) become sequential: NVMe ZNS has no conventional zones (give them a second, non-zoned namespace of ${g.conventionalZones * g.zoneSize} bytes if the guest needs the space)` });
  }
  if (g.maxActiveZones !== 0 && g.maxOpenZones > g.maxActiveZones) {
    refuse('zoned.max_open', `max_open_zones (${g.maxOpenZones}) exceeds max_active_zones (${g.maxActiveZones})`);
  }
  if (!isPow2(g.zoneSize)) {
    issues.push({ kind: 'guest', option: 'zoned.zone_size', message: `a Linux guest refuses the namespace: the zone size ${g.zoneSize} is not a power of two (drivers/nvme/host/zns.c: "invalid zone size")` });
  }
  const { zasl, mdts, issues: zaslIssues } = nvmeZasl(g);
  issues.push(...zaslIssues);
  issues.push({ kind: 'differs', option: 'drive', message: 'data and write pointers do not carry over: the namespace needs a plain (non-zoned) backing file, and QEMU starts every zone empty' });
  const nsSize = whole * g.zoneSize;
  const ctrl = ['nvme', 'id=nvme0', 'serial=qzs0001', ...(mdts !== NVME_DEFAULT_MDTS ? [`mdts=${mdts}`] : []), `zoned.zasl=${zasl}`];
  const ns = ['nvme-ns', 'drive=zns0', 'bus=nvme0', 'nsid=1', `logical_block_size=${LBA}`, `physical_block_size=${LBA}`, 'zoned=true',
    `zoned.zone_size=${g.zoneSize}`, `zoned.zone_capacity=${g.zoneCapacity}`, `zoned.max_open=${g.maxOpenZones}`, `zoned.max_active=${g.maxActiveZones}`];
  return {
    id: 'qemu-nvme-zns', title: 'QEMU NVMe ZNS namespace',
    lines: [
      `qemu-img create -f raw zns.raw ${nsSize}`,
      `-drive file=zns.raw,id=zns0,format=raw,if=none -device ${ctrl.join(',')} -device ${ns.join(',')}`,
    ],
    issues, accepted: !issues.some((i) => i.kind === 'refused'),
  };
}

/** null_blk's configfs device with the same zones (memory-backed; nothing carries over but the geometry). */
export function nullBlk(g: EmulatorGeometry): EmulatorTarget {
  const issues: EmulatorIssue[] = [];
  const mb = (n: number) => n / MIB;
  const sizeMb = Math.floor(g.deviceSize / MIB);
  if (g.deviceSize % MIB !== 0) issues.push({ kind: 'differs', option: 'size', message: `size is in MB: the device is ${sizeMb} MB, ${g.deviceSize - sizeMb * MIB} bytes shorter than the image` });
  if (g.zoneSize % MIB !== 0) issues.push({ kind: 'refused', option: 'zone_size', message: `zone_size is in MB: ${g.zoneSize} bytes is not a whole number of MB` });
  else if (!isPow2(mb(g.zoneSize))) issues.push({ kind: 'refused', option: 'zone_size', message: 'zone_size must be power-of-two' });
  if (g.zoneSize > sizeMb * MIB) issues.push({ kind: 'refused', option: 'zone_size', message: 'Zone size larger than device capacity' });
  const capMb = Math.floor(g.zoneCapacity / MIB);
  if (g.zoneCapacity % MIB !== 0) {
    issues.push({ kind: g.zoneCapacity < MIB ? 'refused' : 'differs', option: 'zone_capacity', message: `zone_capacity is in MB: ${g.zoneCapacity} bytes ${g.zoneCapacity < MIB ? 'is less than 1 MB (0 means the zone size)' : `becomes ${capMb} MB`}` });
  }
  const zoneMb = Math.floor(g.zoneSize / MIB);
  const nrZones = zoneMb > 0 ? Math.ceil(sizeMb / zoneMb) : 0;
  let conv = g.conventionalZones;
  if (nrZones > 0 && conv >= nrZones) {
    issues.push({ kind: 'differs', option: 'zone_nr_conv', message: `changed the number of conventional zones to ${nrZones - 1}` });
    conv = nrZones - 1;
  }
  const seq = nrZones - conv;
  if (g.maxActiveZones !== 0 && g.maxActiveZones >= seq) {
    issues.push({ kind: 'differs', option: 'zone_max_active', message: 'zone_max_active limit disabled, limit >= zone count' });
  }
  const active = g.maxActiveZones !== 0 && g.maxActiveZones < seq ? g.maxActiveZones : 0;
  if (active === 0 && g.maxOpenZones !== 0 && g.maxOpenZones >= seq) {
    issues.push({ kind: 'differs', option: 'zone_max_open', message: 'zone_max_open limit disabled, limit >= zone count' });
  }
  if (g.appendLimit && g.maxAppendBytes < g.zoneSize) {
    issues.push({ kind: 'differs', option: 'max_append_bytes', message: `null_blk has no append limit attribute: appends may be up to a zone (${g.zoneSize} bytes), not ${g.maxAppendBytes}` });
  }
  issues.push({ kind: 'differs', option: 'memory_backed', message: 'data and write pointers do not carry over: null_blk keeps its data in memory and starts every zone empty' });
  const dev = '/sys/kernel/config/nullb/qzs0';
  const attrs: [string, string | number][] = [
    ['size', sizeMb], ['blocksize', LBA], ['memory_backed', 1], ['zoned', 1], ['zone_size', zoneMb], ['zone_capacity', capMb],
    ['zone_nr_conv', conv], ['zone_max_open', g.maxOpenZones], ['zone_max_active', g.maxActiveZones], ['power', 1],
  ];
  return {
    id: 'null_blk', title: 'Linux null_blk (configfs)',
    lines: ['modprobe null_blk nr_devices=0', `mkdir ${dev}`, ...attrs.map(([k, v]) => `echo ${v} > ${dev}/${k}`)],
    issues, accepted: !issues.some((i) => i.kind === 'refused'),
  };
}

/** The qcow2 image itself on a virtio-blk device of a QEMU with the zoned series: everything carries over. */
export function virtioBlk(g: EmulatorGeometry, image = 'IMAGE.qcow2'): EmulatorTarget {
  const issues: EmulatorIssue[] = [
    { kind: 'requires', option: 'qemu', message: `stock QEMU refuses the image (incompatible feature bit 5, "zoned"): it needs a QEMU built with the zoned qcow2 series of this image's revision (${g.revision})` },
    { kind: 'differs', option: 'zone report', message: 'QEMU v3..v10 report every zone\'s capacity as its length, so a guest sees capacity = zone size while writes past zone_capacity still fail' },
    { kind: 'differs', option: 'open zones', message: 'open states are not stored: zones written before read as closed after the image is reopened' },
    { kind: 'guest', option: 'virtio-blk', message: 'a Linux guest needs virtio-blk zoned support (Linux 6.3 or later)' },
  ];
  if (!isPow2(g.zoneSize)) issues.push({ kind: 'guest', option: 'zone.size', message: `a Linux guest refuses zone sizes that are not a power of two (${g.zoneSize})` });
  return {
    id: 'virtio-blk', title: 'virtio-blk with this qcow2 image (QEMU with the zoned qcow2 series)',
    lines: [`-blockdev driver=file,filename=${image},node-name=zfile0 -blockdev driver=qcow2,file=zfile0,node-name=zqcow0 -device virtio-blk-pci,drive=zqcow0`],
    // The refusal is stock QEMU's; a patched QEMU of the right revision accepts the image as it is.
    issues, accepted: true,
  };
}

/** Every emulator's equivalent of the device. */
export function emulatorEquivalents(g: EmulatorGeometry, image?: string): EmulatorTarget[] {
  return [qemuNvmeZns(g), nullBlk(g), virtioBlk(g, image)];
}

/** The targets as text: a title, the lines, then each issue. */
export function emulatorText(targets: EmulatorTarget[]): string {
  return targets.map((t) => `${t.title}${t.accepted ? '' : ' (refused as printed)'}:\n${t.lines.map((l) => `  ${l}\n`).join('')}` +
    t.issues.map((i) => `  - ${i.kind} (${i.option}): ${i.message}\n`).join('')).join('\n');
}
