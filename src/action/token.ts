/** The workflow's github-token input, for the REST API. */
export const token = () => process.env.INPUT_GITHUB_TOKEN ?? "";
