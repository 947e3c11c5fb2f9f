/** Video in and out through Debian's ffmpeg: probe, stream RGBA frames, encode RGBA frames. */
import type { Frame } from "../shared/preprocess.ts";
import { UsageError } from "./run_cli.ts";

const MISSING = "ffmpeg is not installed: apt-get install -y ffmpeg (Debian/Ubuntu), then try again";

/** What ffprobe says about a video's first video stream. */
export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  durationS: number;
}

/** Start ffmpeg or ffprobe; a missing binary is a usage error naming the install command. */
function spawn(cmd: "ffmpeg" | "ffprobe", args: string[], stdio: Omit<Deno.CommandOptions, "args">) {
  try {
    return new Deno.Command(cmd, { ...stdio, args }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(MISSING);
    throw error;
  }
}

/** Size, frame rate and duration of a video file. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  const out = await spawn("ffprobe", [
    ...[
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=width,height,avg_frame_rate,r_frame_rate",
    ],
    ...["-show_entries", "format=duration", "-of", "json", path],
  ], { stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").pop();
    throw new UsageError(`cannot read ${path} as a video: ${why}`);
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout));
  const stream = json.streams?.[0];
  if (!stream?.width) throw new UsageError(`${path} has no video stream`);
  const rate = (text: string) => {
    const [n, d] = String(text).split("/").map(Number);
    return n > 0 && d > 0 ? n / d : 0;
  };
  return {
    width: stream.width,
    height: stream.height,
    fps: rate(stream.avg_frame_rate) || rate(stream.r_frame_rate) || 30,
    durationS: Number(json.format?.duration) || 0,
  };
}

/**
 * When each frame of a video shows, in seconds from its start as a player counts it (presentation
 * timestamps, in order; read from the packets, nothing decoded). A video's first frame may come after 0.
 */
export async function frameTimes(path: string): Promise<number[]> {
  const out = await spawn("ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path],
  ], { stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) throw new UsageError(`cannot read ${path} as a video`);
  return new TextDecoder().decode(out.stdout).split("\n").map((line) => parseFloat(line))
    .filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
}

/** The output size for a video scaled so its longer side is at most `maxSide` (even numbers, for encoders). */
export function scaledSize(info: VideoInfo, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(info.width, info.height));
  const even = (v: number) => Math.max(2, 2 * Math.round((v * scale) / 2));
  return { width: even(info.width), height: even(info.height) };
}

/**
 * The video's frames as RGBA, decoded by ffmpeg and streamed, scaled to `size`: each frame of the video once
 * (none repeated or dropped to a constant rate, so they pair with frameTimes). One buffer serves
 * every frame (memory stays flat however long the video): a frame's pixels are valid until the
 * consumer asks for the next one, so copy what must outlive that. Stops ffmpeg when the consumer
 * stops early.
 */
export async function* readFrames(
  path: string,
  size: { width: number; height: number },
): AsyncGenerator<Frame> {
  const child = spawn("ffmpeg", [
    ...["-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-vf", `scale=${size.width}:${size.height}`],
    ...["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"],
  ], { stdin: "null", stdout: "piped", stderr: "piped" });
  const bytes = size.width * size.height * 4;
  const reader = child.stdout.getReader();
  const buffer = new Uint8Array(bytes);
  const frame: Frame = { data: new Uint8ClampedArray(buffer.buffer), width: size.width, height: size.height };
  let filled = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.length) {
        const take = Math.min(bytes - filled, value.length - offset);
        buffer.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === bytes) {
          yield frame;
          filled = 0;
        }
      }
    }
  } finally {
    // Close our end first: ffmpeg blocked writing a frame then ends on the broken pipe (a signal alone
    // would leave it waiting in that write).
    await reader.cancel().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
}

/** An H.264 MP4 encoder fed RGBA frames of `size`; close() finishes the file. */
export function videoWriter(path: string, size: { width: number; height: number }, fps: number) {
  const child = spawn("ffmpeg", [
    ...["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", `${size.width}x${size.height}`],
    ...["-r", String(fps), "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
    ...["-movflags", "+faststart", path],
  ], { stdin: "piped", stdout: "null", stderr: "piped" });
  const writer = child.stdin.getWriter();
  return {
    /** Append one frame. */
    write: (frame: { data: Uint8Array | Uint8ClampedArray }) =>
      writer.write(new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength)),
    /** Finish the file; throws with ffmpeg's message when encoding failed. */
    async close() {
      await writer.close();
      const status = await child.status;
      const err = new TextDecoder().decode((await new Response(child.stderr).arrayBuffer()) as ArrayBuffer);
      if (!status.success) throw new Error(`ffmpeg could not write ${path}: ${err.trim()}`);
    },
  };
}
