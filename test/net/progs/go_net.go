// go_net: what a Go network service does, on loopback: net/http server and
// client with keep-alive and without, many goroutines (threads, epoll,
// non-blocking sockets, futexes), dual-stack ":0" listening, dial errors and
// deadlines, UDP, unix sockets, half-close, and a GC that must preempt
// spinning goroutines (SIGURG). Built with CGO_ENABLED=0 by the test case
// (test/diff/cases.mjs, prog/go-net); prints only deterministic lines.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var sink int

func spin(stop *int32) {
	x := 0
	for atomic.LoadInt32(stop) == 0 {
		x++
	}
	sink = x
}

func httpRounds(c *http.Client, url string, goroutines, each int) (ok, bad int64) {
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := fmt.Sprintf("g%d-i%d", g, i)
				resp, err := c.Post(url, "text/plain", strings.NewReader(msg))
				if err != nil {
					atomic.AddInt64(&bad, 1)
					fmt.Fprintln(os.Stderr, "post:", err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) == msg {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&bad, 1)
				}
			}
		}(g)
	}
	wg.Wait()
	return
}

func main() {
	var stop int32
	for i := 0; i < 2; i++ {
		go spin(&stop)
	}
	t0 := time.Now()
	runtime.GC()
	fmt.Println("gc preempts spinning goroutines:", time.Since(t0) < 10*time.Second)
	atomic.StoreInt32(&stop, 1)

	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(i)
		}
		w.Write(buf)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)

	ka := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 20 * time.Second}
	ok, bad := httpRounds(ka, fmt.Sprintf("http://127.0.0.1:%d/echo", port), 16, 50)
	fmt.Println("keep-alive requests ok", ok, "bad", bad)
	noka := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	ok, bad = httpRounds(noka, fmt.Sprintf("http://[::1]:%d/echo", port), 8, 20)
	fmt.Println("one connection per request ok", ok, "bad", bad)
	if resp, err := ka.Get(fmt.Sprintf("http://localhost:%d/big", port)); err != nil {
		fmt.Println("big:", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println("big", len(b), b[12345] == byte(12345&255))
	}

	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l2.Addr().String()
	l2.Close()
	_, err = net.DialTimeout("tcp", closed, 2*time.Second)
	fmt.Println("dial to a closed port refused:", err != nil && strings.Contains(err.Error(), "refused"))
	if cc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		cc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err = cc.Read(make([]byte, 10))
		ne, isNe := err.(net.Error)
		fmt.Println("read deadline times out:", isNe && ne.Timeout())
		cc.Close()
	}

	uc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("udp:", err)
		os.Exit(1)
	}
	go func() {
		b := make([]byte, 2000)
		for {
			n, a, err := uc.ReadFrom(b)
			if err != nil {
				return
			}
			uc.WriteTo(b[:n], a)
		}
	}()
	dc, _ := net.Dial("udp", uc.LocalAddr().String())
	echoed := 0
	for i := 0; i < 100; i++ {
		dc.Write([]byte(fmt.Sprint(i)))
		dc.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 100)
		if n, err := dc.Read(b); err == nil && string(b[:n]) == fmt.Sprint(i) {
			echoed++
		}
	}
	fmt.Println("udp echoes", echoed)

	sock := os.Getenv("TSV_TMP") + "/go_net.sock"
	ul, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println("unix:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := ul.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				s := bufio.NewScanner(c)
				for s.Scan() {
					fmt.Fprintln(c, "re:"+s.Text())
				}
				c.Close()
			}(c)
		}
	}()
	var wg sync.WaitGroup
	var lines int64
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", sock)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			r := bufio.NewReader(c)
			for i := 0; i < 50; i++ {
				fmt.Fprintln(c, "x")
				if l, _ := r.ReadString('\n'); l == "re:x\n" {
					atomic.AddInt64(&lines, 1)
				}
			}
			c.Close()
		}()
	}
	wg.Wait()
	ul.Close()
	fmt.Println("unix lines", lines)

	tl, _ := net.Listen("tcp4", "127.0.0.1:0")
	go func() {
		c, _ := tl.Accept()
		n, _ := io.Copy(io.Discard, c)
		fmt.Fprintf(c, "got %d", n)
		c.Close()
	}()
	tc, _ := net.Dial("tcp", tl.Addr().String())
	tc.Write(make([]byte, 300000))
	tc.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(tc)
	fmt.Println("half-close:", string(b))

	// Connections the client dialed but never used stay StateNew on the
	// server, which Shutdown waits 5 s for: close the client's pool first.
	ka.CloseIdleConnections()
	noka.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println("shutdown:", srv.Shutdown(ctx))
}
