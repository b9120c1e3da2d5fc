/** The marketing channels of the catalogue. */
export const channels = ['search', 'social', 'display', 'video', 'email', 'affiliate'] as const;
export type Channel = (typeof channels)[number];
