/**
 * The numbers faces go by in a tab's overlay and popup: each video's verb numbers its faces, one number per
 * person (shared/face_numbers.ts); the tab gives every (video, face) its own number, from 1, so that faces in
 * different videos never share one. In a gallery the tiles' first faces are numbered in the page's order.
 * A kept session restarts after its highest number (`first`), so faces before and after do not merge.
 */
export function createFaceNumbers(first = 1) {
  const byFace = new Map<string, number>();
  const reserved = new Map<number, number>();
  const numbered = new Set<number>();
  let next = first;
  return {
    /** In a gallery: a number for the first face of each video not numbered yet, in page order. */
    reserve(videos: number[]) {
      for (const video of videos) {
        if (!numbered.has(video) && !reserved.has(video)) reserved.set(video, next++);
      }
    },
    /** The tab's numbers for one video's faces, given their numbers in that video. */
    assign(video: number, faces: number[]): number[] {
      return faces.map((face) => {
        const key = `${video}:${face}`;
        let number = byFace.get(key);
        if (number === undefined) {
          number = reserved.get(video) ?? next++;
          reserved.delete(video);
          numbered.add(video);
          byFace.set(key, number);
        }
        return number;
      });
    },
  };
}
