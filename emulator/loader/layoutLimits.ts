// Bounds of struct layouts. Layouts list nested records' fields with absolute offsets, so a
// struct of two members of a struct of two members … (20 levels) would expand to a million
// fields: each layout, and all of one object's together, stop expanding at these counts, and a
// member left unexpanded says so in its type.

/** Field nodes one struct's layout may expand to. */
export const MAX_LAYOUT_FIELDS = 20_000;
/** Field nodes all layouts of one object may expand to together. */
export const MAX_TOTAL_LAYOUT_FIELDS = 1_000_000;
/** Appended to the type of a record member left unexpanded. */
// Grouped by hand: `toLocaleString` here would load ICU's locale data as the module loads.
export const NOT_EXPANDED = ` (members not expanded: the layout exceeds ${String(MAX_LAYOUT_FIELDS).replace(/\B(?=(\d{3})+$)/g, ',')} fields)`;
