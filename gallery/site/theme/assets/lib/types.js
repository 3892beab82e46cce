// @ts-check
// The shapes the browser code works with, as JSDoc types for `tsc --noEmit` (nothing here runs).

/**
 * ThingsBoard's ImageDescriptor, as the API sends it.
 * @typedef {object} Descriptor
 * @property {string} mediaType
 * @property {number} width
 * @property {number} height
 * @property {number} size
 * @property {string} etag
 * @property {Descriptor} [previewDescriptor]
 */

/**
 * ThingsBoard's TbResourceInfo: one image as the API lists it.
 * @typedef {object} Image
 * @property {{id: string}} [id]
 * @property {string} title
 * @property {string} resourceKey
 * @property {string} link
 * @property {string | null} [publicLink]
 * @property {boolean} public
 * @property {string} [publicResourceKey]
 * @property {string} [etag]
 * @property {string} [fileName]
 * @property {number} createdTime
 * @property {Descriptor} [descriptor]
 * @property {string} [altText] ours, beside ThingsBoard's fields
 * @property {string} [description]
 * @property {string[]} [tags]
 */

/**
 * ThingsBoard's PageData.
 * @typedef {object} Page
 * @property {Image[]} data
 * @property {number} totalPages
 * @property {number} totalElements
 * @property {boolean} hasNext
 */

/**
 * One image in the static gallery's `gallery.json` (short keys: the file lists every image).
 * @typedef {object} Card
 * @property {string} t title
 * @property {string} p page path
 * @property {boolean} s system image
 * @property {number} w width
 * @property {number} h height
 * @property {number} b size in bytes
 * @property {string} z size in words
 * @property {number} c created, ms
 * @property {string} i thumbnail
 * @property {string | null} v WebP thumbnail
 * @property {number} iw thumbnail width
 * @property {number} ih thumbnail height
 * @property {string} [a] alt text, when it is not the title
 * @property {string[]} [g] tags
 * @property {string} [d] the opening of the description
 * @property {string} [x] the viewer's picture, the largest rendition (none where it is the thumbnail, `v` or `i`)
 */

export {};
