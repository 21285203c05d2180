/**
 * @plumtree/testing: clusters of Nest applications for users' jest e2e tests.
 */
export {};
