/** The ids package.json gives the extension's panel and view: activation registers them before their features load. */
export const SIMULATOR_VIEW_TYPE = 'iommufd.simulator';
export const REVIEW_VIEW_ID = 'iommufd.reviewSessions';
