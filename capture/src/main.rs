fn main() {
    println!("ptcap: live capture arrives with the eBPF backend");
}
