/**
 * Where a labelled row stands in review: no label from a person yet, one given (confirming the model's or not), or
 * one that differs from the model's. Its own module (no imports) so the contract can validate against it.
 */
export const REVIEW_STATES = ['unreviewed', 'reviewed', 'corrected'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];
