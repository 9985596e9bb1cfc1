// WebM: an EBML header with DocType "webm", a Segment (its size may be unknown, as browsers'
// MediaRecorder writes it), an audio track (TrackType 2) with an Opus or Vorbis codec, and a
// non-empty block of media data in a Cluster. Channels, sampling frequency and duration are
// checked where the file declares them.
import { ByteReader } from '../bytes.ts';
import { invalid } from '../errors.ts';
import { type AudioInfo, checkChannels, checkDuration, checkRate } from './limits.ts';

const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackType: 0x83,
  CodecID: 0x86,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
} as const;

interface Element {
  id: number;
  body: number;
  /** End of the body; the container's end when the size is unknown. */
  end: number;
  unknownSize: boolean;
}

function vintLength(first: number, max: number, what: string): number {
  for (let n = 1; n <= max; n++) if (first & (0x80 >> (n - 1))) return n;
  throw invalid(`WebM has an invalid ${what} at an element header`);
}

function readElement(r: ByteReader, o: number, parentEnd: number, lenient: boolean): Element {
  const idLen = vintLength(r.u8(o), 4, 'element id');
  let id = 0;
  for (let i = 0; i < idLen; i++) id = id * 256 + r.u8(o + i);
  const s = o + idLen;
  const sizeLen = vintLength(r.u8(s), 8, 'element size');
  let size = r.u8(s) & (0xff >> sizeLen);
  let allOnes = size === 0xff >> sizeLen;
  for (let i = 1; i < sizeLen; i++) {
    const b = r.u8(s + i);
    size = size * 256 + b;
    allOnes &&= b === 0xff;
  }
  const body = s + sizeLen;
  if (allOnes) return { id, body, end: parentEnd, unknownSize: true };
  if (body + size > parentEnd) {
    if (!lenient) throw invalid(`WebM element 0x${id.toString(16)} runs past its container`);
    return { id, body, end: parentEnd, unknownSize: false };
  }
  return { id, body, end: body + size, unknownSize: false };
}

function* children(r: ByteReader, start: number, end: number, lenient = false): Generator<Element> {
  let o = start;
  while (o < end) {
    const e = readElement(r, o, end, lenient);
    yield e;
    o = e.end;
  }
}

const uint = (r: ByteReader, e: Element): number => {
  let v = 0;
  for (let o = e.body; o < e.end; o++) v = v * 256 + r.u8(o);
  return v;
};
const float = (r: ByteReader, e: Element): number =>
  e.end - e.body === 4
    ? r.view.getFloat32(e.body)
    : e.end - e.body === 8
      ? r.view.getFloat64(e.body)
      : Number.NaN;

export function parseWebm(bytes: Uint8Array): AudioInfo {
  const r = new ByteReader(bytes, 'WebM');
  const header = readElement(r, 0, r.length, false);
  if (header.id !== ID.EBML) throw invalid('WebM does not start with an EBML header');
  let docType = '';
  for (const e of children(r, header.body, header.end))
    if (e.id === ID.DocType) docType = r.ascii(e.body, e.end - e.body).replace(/\0+$/, '');
  if (docType !== 'webm') throw invalid(`EBML DocType is ${JSON.stringify(docType)}, not "webm"`);
  const segment = readElement(r, header.end, r.length, true);
  if (segment.id !== ID.Segment) throw invalid('WebM has no Segment after its EBML header');
  let timecodeScale = 1_000_000;
  let duration: number | undefined;
  let audio: { rate?: number; channels?: number } | undefined;
  let media = false;
  for (const e of children(r, segment.body, segment.end, true)) {
    if (e.id === ID.Info) {
      for (const c of children(r, e.body, e.end)) {
        if (c.id === ID.TimecodeScale) timecodeScale = uint(r, c);
        if (c.id === ID.Duration) duration = float(r, c);
      }
    } else if (e.id === ID.Tracks) {
      for (const t of children(r, e.body, e.end)) {
        if (t.id !== ID.TrackEntry || audio) continue;
        let type = 0;
        let codec = '';
        const found: { rate?: number; channels?: number } = {};
        for (const c of children(r, t.body, t.end)) {
          if (c.id === ID.TrackType) type = uint(r, c);
          else if (c.id === ID.CodecID) codec = r.ascii(c.body, c.end - c.body).replace(/\0+$/, '');
          else if (c.id === ID.Audio)
            for (const a of children(r, c.body, c.end)) {
              if (a.id === ID.SamplingFrequency) found.rate = float(r, a);
              if (a.id === ID.Channels) found.channels = uint(r, a);
            }
        }
        if (type === 2 && (codec === 'A_OPUS' || codec === 'A_VORBIS')) audio = found;
      }
    } else if (e.id === ID.Cluster) {
      if (!audio) throw invalid('WebM media data comes before any Opus/Vorbis audio track');
      // An unknown-size cluster (live recording) ends at the next top-level element; the first
      // non-empty block is all this check needs.
      for (const c of children(r, e.body, e.end, true)) {
        if ((c.id === ID.SimpleBlock || c.id === ID.BlockGroup) && c.end > c.body) media = true;
        if (media || c.id === ID.Cluster) break;
      }
    }
    if (media) break;
  }
  if (!audio) throw invalid('WebM has no Opus or Vorbis audio track');
  if (!media) throw invalid('WebM has no media data (no non-empty block in a Cluster)');
  if (audio.channels !== undefined) {
    if (audio.channels === 0) throw invalid('WebM audio track declares zero channels');
    checkChannels(audio.channels, 'WebM audio');
  }
  if (audio.rate !== undefined) checkRate(audio.rate, 'WebM audio');
  const info: AudioInfo = {
    ...(audio.rate !== undefined ? { sample_rate_hz: audio.rate } : {}),
    ...(audio.channels !== undefined ? { channels: audio.channels } : {}),
  };
  if (duration !== undefined && Number.isFinite(duration) && duration > 0)
    info.duration_ms = checkDuration((duration * timecodeScale) / 1e9, 'WebM audio');
  return info;
}
