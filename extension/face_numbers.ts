/**
 * The numbers faces go by in the overlay and the popup, per tab from 1. A track keeps its number while it
 * lasts; a new track in a video takes the lowest number of that video that no face in the same frame holds,
 * so that a participant whose track restarts (a cut, a turned head, a tile that lost them for a moment)
 * keeps one number and one chart instead of gaining a new one each time. Numbers are places in a video,
 * not identities: someone who takes a departed person's place takes their number. In a gallery the tiles'
 * first numbers follow the page's order.
 */
export function createFaceNumbers() {
  const byTrack = new Map<string, number>();
  const byVideo = new Map<number, number[]>();
  let next = 1;
  return {
    /** In a gallery: a first number for each video not numbered yet, in page order (tile 1 is face 1). */
    reserve(videos: number[]) {
      for (const video of videos) if (!byVideo.has(video)) byVideo.set(video, [next++]);
    },
    /** The numbers of one video's faces in a frame, given its verb's track ids. */
    assign(video: number, tracks: number[]): number[] {
      const numbers = tracks.map((track) => byTrack.get(`${video}:${track}`));
      const taken = new Set(numbers.filter((n) => n !== undefined));
      const own = byVideo.get(video) ?? [];
      byVideo.set(video, own);
      tracks.forEach((track, i) => {
        if (numbers[i] !== undefined) return;
        let n = own.find((number) => !taken.has(number));
        if (n === undefined) own.push(n = next++);
        for (const [key, value] of byTrack) if (value === n) byTrack.delete(key);
        byTrack.set(`${video}:${track}`, n);
        taken.add(n);
        numbers[i] = n;
      });
      return numbers as number[];
    },
  };
}
