/** The page's sample photos, by name under /static/samples/: the test photos that come with face-api.js. */
export const SAMPLE_PHOTOS = ["sample1.jpg", "sample2.jpg", "sample5.jpg"];
